"""One row of a donor file, read by the mapping into clean values, or the reasons it cannot be.

Names and places are NFC (accents kept), codes NFKC (full-width digits become digits);
codici fiscali, partite IVA, provinces, countries, languages and postal codes are brought to
their canonical form or the row is rejected with the reason. Cells are kept as text: a value
such as `=HYPERLINK(...)` is stored as written. A cell holding U+FFFD (a character lost by an
earlier, wrong conversion of the file) rejects the row rather than store the loss.

Besides details and tags, a row says what the person wants by e-mail: newsletter consent
(with its times and IP addresses), an unsubscribe (with its time and why), a bounce, or an
opt-out (CiviCRM's privacy flags); the file's row status (`RowStatus`) can say it for every
row.
"""

import csv
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from donors.identity import normalise_email
from donors.import_presets import IGNORE, RowStatus
from donors.models import Donor, DonorKind, Tag, fold
from legami.i18n import LANGUAGES
from legami.identifiers import InvalidIdentifier, normalise_codice_fiscale, normalise_partita_iva

# The donor fields a row can set, as DonorDetails names them.
DONOR_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "codice_fiscale",
    "partita_iva",
    "street",
    "postal_code",
    "town",
    "province",
    "country",
    "language",
    "phone",
)
FREE_TEXT = {"first_name", "last_name", "organisation_name", "street", "town", "status_note"}
YES = {"yes", "y", "si", "s", "true", "1", "x", "ok", "subscribed", "iscritto", "iscritta"}
NO = {"no", "n", "false", "0", "unsubscribed", "non iscritto", "non iscritta"}
KINDS = {
    DonorKind.PERSON: {"person", "persona", "persona fisica", "individual", "privato", "privata"},
    DonorKind.ORGANISATION: {
        "organisation",
        "organization",
        "organizzazione",
        "ente",
        "azienda",
        "impresa",
        "associazione",
        "company",
        "persona giuridica",
    },
}
COUNTRY_NAMES = {"italia": "IT", "italy": "IT"}
LANGUAGE_NAMES = {"italiano": "it", "italian": "it", "inglese": "en", "english": "en"}
ITALIAN_TIMES = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y")
LOST_CHARACTER = "\ufffd"
NOTE_LENGTH = 300


@dataclass
class Parsed:
    """One row's values, cleaned; `problems` holds the reasons to reject it."""

    email: str = ""
    values: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    consent: bool | None = None
    consent_time: datetime | None = None
    consent_ip: str = ""
    confirm_time: datetime | None = None
    confirm_ip: str = ""
    # Withdrew consent (unsubscribed, or opted out of e-mail), when known, and why.
    unsubscribed: bool = False
    unsubscribed_at: datetime | None = None
    status_note: str = ""
    # The address bounced for good (Mailchimp's cleaned members, CiviCRM's on hold).
    bounced: bool = False
    bounced_at: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def about_newsletter(self) -> bool:
        """The row subscribes, unsubscribes or bounces: it is about a list member, who
        needs no name."""
        return bool(self.consent) or self.unsubscribed or self.bounced


def _clean(value: str, free_text: bool) -> str:
    """NFC for names and places, NFKC for codes; surrounding and repeated spaces dropped."""
    text = unicodedata.normalize("NFC" if free_text else "NFKC", value)
    return " ".join(text.split())


def _split_tags(text: str) -> list[str]:
    """`"Donatori 2023","Volontari"` (Mailchimp) or `Donatori 2023, Volontari; Soci`."""
    parts = next(csv.reader([text], skipinitialspace=True), [])
    return [_clean(t, True) for p in parts for t in p.split(";") if t.strip()]


def _split_address(text: str) -> dict[str, str]:
    """Mailchimp's address cell: street, (more street,) town, province, postal code and
    country, separated by two or more spaces."""
    parts = [p for p in (_clean(p, True) for p in re.split(r"\s{2,}", text)) if p]
    found = {}
    if len(parts) > 1 and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        found["country"] = parts.pop()
    if len(parts) > 1 and re.fullmatch(r"\d{4,5}", parts[-1]):
        found["postal_code"] = parts.pop()
    if len(parts) > 1 and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        found["province"] = parts.pop()
    if len(parts) > 1:
        found["town"] = parts.pop()
    if parts:
        found["street"] = ", ".join(parts)
    return found


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """ISO 8601 or an Italian day-first date (and time), in `zone` unless it says its own;
    returned in UTC. Raises ValueError."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in ITALIAN_TIMES:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


def _check_email(text: str, parsed: Parsed) -> None:
    if not text:
        parsed.problems.append("no_email")
        return
    parsed.email = normalise_email(text)
    try:
        validate_email(parsed.email, check_deliverability=False)
    except EmailNotValidError:
        parsed.problems.append("bad_email")
    if len(parsed.email) > Donor.email.type.length:
        parsed.problems.append("too_long:email")


def _clean_values(values: dict[str, str], parsed: Parsed) -> None:
    """Codes to their canonical form; anything that cannot be is a reason to reject."""
    if "kind" in values:
        word = fold(values["kind"])
        kind = next((k for k, words in KINDS.items() if word in words), None)
        if kind is None:
            parsed.problems.append(f"bad_kind:{values.pop('kind')}")
        else:
            values["kind"] = kind
    if "codice_fiscale" in values:
        try:
            values["codice_fiscale"] = normalise_codice_fiscale(values["codice_fiscale"])
        except InvalidIdentifier:
            parsed.problems.append("bad_codice_fiscale")
            del values["codice_fiscale"]
    if "partita_iva" in values:
        try:
            values["partita_iva"] = normalise_partita_iva(values["partita_iva"])
        except InvalidIdentifier:
            parsed.problems.append("bad_partita_iva")
            del values["partita_iva"]
    if "country" in values:
        country = COUNTRY_NAMES.get(fold(values["country"]), values["country"].upper())
        if re.fullmatch(r"[A-Z]{2}", country):
            values["country"] = country
        else:
            parsed.problems.append(f"bad_country:{values.pop('country')}")
    if "province" in values:
        province = values["province"].upper()
        if re.fullmatch(r"[A-Z]{2}", province):
            values["province"] = province
        else:
            parsed.problems.append(f"bad_province:{values.pop('province')}")
    postal_code = values.get("postal_code", "")
    if postal_code.isdigit() and len(postal_code) < 5 and values.get("country", "IT") == "IT":
        # A spreadsheet that took the CAP for a number dropped its leading zeros.
        values["postal_code"] = postal_code.zfill(5)
    if "language" in values:
        word = fold(values["language"])
        code = LANGUAGE_NAMES.get(word, word.replace("_", "-").split("-")[0])
        # A language the site does not speak is left out, not a reason to reject the row.
        if code in LANGUAGES:
            values["language"] = code
        else:
            del values["language"]
    for name, value in values.items():
        if len(value) > Donor.__table__.c[name].type.length:
            parsed.problems.append(f"too_long:{name}")


def _yes_no(text: str, parsed: Parsed, problem: str) -> bool | None:
    word = fold(text)
    if word in YES:
        return True
    if word in NO:
        return False
    parsed.problems.append(f"{problem}:{text[:40]}")
    return None


def _on_hold(text: str, parsed: Parsed) -> None:
    """CiviCRM's On Hold: 0/No, 1/On Hold Bounce (or Yes), 2/On Hold Opt Out."""
    word = fold(text)
    if word in NO:
        return
    if word == "2" or "opt out" in word or "opt-out" in word:
        parsed.unsubscribed = True
    elif word in YES or "bounce" in word:
        parsed.bounced = True
    else:
        parsed.problems.append(f"bad_flag:{text[:40]}")


def _times(given: dict[str, str], zone: ZoneInfo, parsed: Parsed) -> None:
    for name in ("consent_time", "confirm_time", "unsubscribed_at", "bounced_at"):
        if name in given:
            try:
                setattr(parsed, name, parse_time(given[name], zone))
            except ValueError:
                parsed.problems.append(f"bad_time:{given[name][:40]}")


def _status(given: dict[str, str], opt_outs: list[str], mapping: dict, parsed: Parsed) -> None:
    """What the row says about mail: its own columns, or the file's row status."""
    status = mapping.get("status", RowStatus.ROWS)
    if "consent" in given:
        parsed.consent = _yes_no(given["consent"], parsed, "bad_consent")
    elif status == RowStatus.SUBSCRIBED:
        parsed.consent = True
    if status == RowStatus.UNSUBSCRIBED or "unsubscribed_at" in given:
        parsed.unsubscribed = True
    if status == RowStatus.CLEANED or "bounced_at" in given:
        parsed.bounced = True
    if any(_yes_no(value, parsed, "bad_flag") for value in opt_outs):
        parsed.unsubscribed = True
    if "on_hold" in given:
        _on_hold(given["on_hold"], parsed)


def parse_row(cells: list[str], mapping: dict) -> Parsed:
    """A row's cells, by the mapping, as donor values; what is wrong with it in `problems`."""
    parsed = Parsed()
    zone = ZoneInfo(mapping["timezone"])
    given: dict[str, str] = {}
    notes: list[str] = []
    status_notes: list[str] = []
    opt_outs: list[str] = []
    for index, target in enumerate(mapping["columns"]):
        raw = cells[index] if index < len(cells) else ""
        if target == IGNORE or not raw.strip():
            continue
        if LOST_CHARACTER in raw:
            parsed.problems.append(f"lost_character:{target}")
        if target == "tags":
            parsed.tags.extend(_split_tags(raw))
        elif target == "notes":
            notes.append(unicodedata.normalize("NFC", raw).strip())
        elif target == "status_note":
            status_notes.append(_clean(raw, True))
        elif target == "opt_out":
            opt_outs.append(raw)
        elif target == "address":
            given[target] = raw  # split on its runs of spaces first
        else:
            given[target] = _clean(raw, target in FREE_TEXT)
    _check_email(given.pop("email", ""), parsed)
    address = _split_address(given.pop("address", ""))
    values = {**address, **{k: v for k, v in given.items() if k in DONOR_FIELDS}}
    _clean_values(values, parsed)
    parsed.values = values
    unique_tags = {fold(t): t for t in reversed(parsed.tags)}
    parsed.tags = [unique_tags[k] for k in dict.fromkeys(fold(t) for t in parsed.tags)]
    for tag in parsed.tags:
        if len(tag) > Tag.name.type.length:
            parsed.problems.append("too_long:tags")
    parsed.notes = "\n".join(notes)
    parsed.status_note = "; ".join(status_notes)[:NOTE_LENGTH]
    _status(given, opt_outs, mapping, parsed)
    _times(given, zone, parsed)
    parsed.consent_ip = _ip(given.get("consent_ip", ""))
    parsed.confirm_ip = _ip(given.get("confirm_ip", ""))
    return parsed
