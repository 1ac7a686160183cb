"""What each column of a donor file can become, and the headers each preset recognises."""

import re

from flask_babel import lazy_gettext as _l

from donors.models import fold

IGNORE = "ignore"

# Field name -> label, in the order the mapping page offers them.
TARGETS = {
    "email": _l("E-mail"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "organisation_name": _l("Organisation name"),
    "kind": _l("Person or organisation"),
    "phone": _l("Phone"),
    "street": _l("Street and number"),
    "postal_code": _l("Postal code"),
    "town": _l("Town"),
    "province": _l("Province"),
    "country": _l("Country"),
    "address": _l("Whole address (Mailchimp: street, town, province, postal code, country)"),
    "codice_fiscale": _l("Codice fiscale"),
    "partita_iva": _l("Partita IVA"),
    "language": _l("Language"),
    "tags": _l("Tags (comma separated)"),
    "notes": _l("Notes"),
    "consent": _l("Newsletter consent (yes/no)"),
    "consent_time": _l("Consent time"),
    "consent_ip": _l("Consent IP address"),
    "confirm_time": _l("Consent confirmation time"),
    "confirm_ip": _l("Consent confirmation IP address"),
    IGNORE: _l("Ignore this column"),
}

# Italian and English headers, compared by `header_key`.
GENERIC = {
    "email": ["email", "e-mail", "email address", "indirizzo email", "posta elettronica", "mail"],
    "first_name": ["nome", "first name", "firstname", "given name"],
    "last_name": ["cognome", "last name", "lastname", "surname", "family name"],
    "organisation_name": [
        "organizzazione",
        "ente",
        "azienda",
        "ragione sociale",
        "organisation",
        "organization",
        "company",
    ],
    "kind": ["tipo", "tipo donatore", "kind", "type"],
    "phone": ["telefono", "cellulare", "tel", "phone", "phone number", "mobile"],
    "street": ["indirizzo", "via", "address", "street"],
    "postal_code": ["cap", "codice postale", "postal code", "postcode", "zip", "zip code"],
    "town": ["città", "comune", "località", "town", "city"],
    "province": ["provincia", "prov", "province"],
    "country": ["paese", "nazione", "country"],
    "codice_fiscale": ["codice fiscale", "cf", "c.f.", "tax code", "fiscal code"],
    "partita_iva": ["partita iva", "p.iva", "piva", "vat", "vat number"],
    "language": ["lingua", "language"],
    "tags": ["tag", "tags", "etichette"],
    "notes": ["note", "notes"],
    "consent": [
        "newsletter",
        "consenso",
        "consenso newsletter",
        "iscritto newsletter",
        "newsletter consent",
        "consent",
    ],
    "consent_time": ["data consenso", "consent time", "consent date"],
    "confirm_time": ["data conferma", "confirm time", "confirmation time"],
}

# Columns that only an export of unsubscribed or cleaned (bounced) members has.
MAILCHIMP_NOT_SUBSCRIBED = [
    "UNSUB_TIME",
    "UNSUB_CAMPAIGN_TITLE",
    "UNSUB_CAMPAIGN_ID",
    "UNSUB_REASON",
    "UNSUB_REASON_OTHER",
    "CLEAN_TIME",
    "CLEAN_CAMPAIGN_TITLE",
    "CLEAN_CAMPAIGN_ID",
]

# A Mailchimp audience export; other headers (merge fields such as "Codice fiscale") fall back
# to the generic names.
MAILCHIMP = {
    "email": ["Email Address"],
    "first_name": ["First Name"],
    "last_name": ["Last Name"],
    "address": ["Address"],
    "phone": ["Phone Number"],
    "consent_time": ["OPTIN_TIME"],
    "consent_ip": ["OPTIN_IP"],
    "confirm_time": ["CONFIRM_TIME"],
    "confirm_ip": ["CONFIRM_IP"],
    "tags": ["TAGS"],
    "language": ["LANGUAGE"],
    "country": ["CC"],
    "notes": ["NOTES"],
    IGNORE: [
        "Birthday",
        "MEMBER_RATING",
        "LAST_CHANGED",
        "LATITUDE",
        "LONGITUDE",
        "GMTOFF",
        "DSTOFF",
        "TIMEZONE",
        "REGION",
        "LEID",
        "EUID",
        *MAILCHIMP_NOT_SUBSCRIBED,
    ],
}


def header_key(header: str) -> str:
    """`E-mail`, `EMAIL` and `e mail` alike: folded, letters and digits only."""
    return re.sub(r"[\W_]+", "", fold(header))


def _index(*presets: dict[str, list[str]]) -> dict[str, str]:
    index = {}
    for preset in presets:
        index.update({header_key(h): target for target, headers in preset.items() for h in headers})
    return index


PRESETS = {
    "generic": {
        "label": _l("Generic file (Italian or English headers)"),
        "headers": _index(GENERIC),
        "timezone": "Europe/Rome",
    },
    "mailchimp": {
        "label": _l("Mailchimp audience export"),
        "headers": _index(GENERIC, MAILCHIMP),
        "timezone": "UTC",
    },
}

TIMEZONES = {
    "Europe/Rome": _l("Italian time"),
    "UTC": _l("UTC (Mailchimp exports)"),
}


def initial_mapping(headers: list[str], preset: str) -> dict:
    """The mapping a preset suggests: one target per column, the zone of times, and whether
    every row has consent (the rows of a Mailchimp export of subscribed members do)."""
    found = PRESETS[preset]["headers"]
    columns = [found.get(header_key(h), IGNORE) for h in headers]
    unsubscribed = {header_key(h) for h in MAILCHIMP_NOT_SUBSCRIBED}
    subscribed_export = preset == "mailchimp" and not any(
        header_key(h) in unsubscribed for h in headers
    )
    return {
        "columns": columns,
        "consent_all": subscribed_export,
        "timezone": PRESETS[preset]["timezone"],
    }
