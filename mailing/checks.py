"""Field checks shared by the mailing services: each returns the value cleaned and, when it
is wrong, puts a message in `errors` under `key`, so a service reports every field at once."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l


def one_line(value: str, key: str, max_length: int, errors: dict, required=False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[key] = _l("Required.")
    elif len(value) > max_length:
        errors[key] = _l("At most %(num)s characters.", num=max_length)
    elif "\n" in value or "\r" in value:
        errors[key] = _l("One line only.")
    return value


def address(value: str, key: str, errors: dict) -> str:
    """An e-mail address, or empty."""
    value = (value or "").strip()
    if value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            errors[key] = _l("Not a valid e-mail address.")
    return value
