"""Bank-transfer references: short, unambiguous when read aloud or retyped, self-checking.

`LG-7K3M-9Q`: six random characters from Crockford's base 32 (no I, L, O, U) and a check
character, so a typo in a bank causale is caught instead of matching another gift.
"""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PATTERN = re.compile(r"LG[-\s]?([0-9A-Z]{4})[-\s]?([0-9A-Z]{2})", re.IGNORECASE)
# Crockford's reading of look-alike letters.
_READ = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def _check(body: str) -> str:
    total = sum((i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_reference() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(5))
    code = body + _check(body)
    return f"LG-{code[:4]}-{code[4:]}"


def find_references(text: str) -> list[str]:
    """Every valid reference inside a longer causale, any case, typo-tolerant in look-alikes."""
    found = []
    for match in PATTERN.finditer(text.upper()):
        code = (match.group(1) + match.group(2)).translate(_READ)
        if all(ch in ALPHABET for ch in code) and _check(code[:5]) == code[5]:
            found.append(f"LG-{code[:4]}-{code[4:]}")
    return found
