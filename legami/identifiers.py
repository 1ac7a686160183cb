"""Italian tax codes and IBANs, validated with python-stdnum.

A valid checksum does not prove the code exists; it catches typing mistakes.
"""

from flask_babel import lazy_gettext as _l
from stdnum import iban
from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale, iva


class InvalidIdentifier(ValueError):
    pass


def _normalise(module, value: str, message) -> str:
    try:
        return module.validate(value)
    except ValidationError as exc:
        raise InvalidIdentifier(message) from exc


def normalise_codice_fiscale(value: str) -> str:
    """A person's 16-character code or an entity's 11 digits."""
    return _normalise(codicefiscale, value, _l("This is not a valid codice fiscale."))


def normalise_partita_iva(value: str) -> str:
    return _normalise(iva, value, _l("This is not a valid partita IVA."))


def normalise_iban(value: str) -> str:
    return _normalise(iban, value, _l("This is not a valid IBAN."))


def format_iban(value: str) -> str:
    return iban.format(value)
