"""Italian tax codes and IBANs, validated with python-stdnum.

A valid checksum does not prove the code exists; it catches typing mistakes.
"""

from flask_babel import lazy_gettext as _l
from stdnum import iban
from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale, iva


class InvalidIdentifier(ValueError):
    pass


def normalise_codice_fiscale(value: str) -> str:
    """A person's 16-character code or an entity's 11 digits."""
    try:
        return codicefiscale.validate(value)
    except ValidationError as exc:
        raise InvalidIdentifier(_l("This is not a valid codice fiscale.")) from exc


def normalise_partita_iva(value: str) -> str:
    try:
        return iva.validate(value)
    except ValidationError as exc:
        raise InvalidIdentifier(_l("This is not a valid partita IVA.")) from exc


def normalise_iban(value: str) -> str:
    try:
        return iban.validate(value)
    except ValidationError as exc:
        raise InvalidIdentifier(_l("This is not a valid IBAN.")) from exc


def format_iban(value: str) -> str:
    return iban.format(value)
