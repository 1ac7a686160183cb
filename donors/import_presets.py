"""What each column of a donor file can become, the headers each preset recognises (a
generic file with Italian or English headers, a Mailchimp audience export of subscribed,
unsubscribed or cleaned members, a CiviCRM contact export) and what the rows of a file are."""

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
    "unsubscribed_at": _l("Unsubscribed at (withdraws consent and suppresses the address)"),
    "status_note": _l("Why they unsubscribed (kept with the withdrawal)"),
    "bounced_at": _l("Cleaned at: the address bounced (suppresses it)"),
    "opt_out": _l("No e-mail wanted (yes/no: withdraws consent and suppresses the address)"),
    "on_hold": _l("E-mail on hold (CiviCRM: a bounce, or an opt-out)"),
    IGNORE: _l("Ignore this column"),
}

# Targets that several columns may feed (their values are joined, or any yes counts); the
# others take one column.
REPEATABLE = {"tags", "notes", "status_note", "opt_out", IGNORE}


class RowStatus:
    """What every row of a file is, besides what its columns say."""

    ROWS = "rows"  # the columns say (consent, unsubscribe or bounce times, opt-outs)
    SUBSCRIBED = "subscribed"  # every row consents (a list of subscribed members)
    UNSUBSCRIBED = "unsubscribed"  # every row withdrew consent: suppressed
    CLEANED = "cleaned"  # every address bounced: suppressed


ROW_STATUSES = {
    RowStatus.ROWS: _l("Each row says (its consent, unsubscribe, bounce or opt-out columns)"),
    RowStatus.SUBSCRIBED: _l("Subscribed members: every row consents to the newsletter"),
    RowStatus.UNSUBSCRIBED: _l(
        "Unsubscribed members: every row withdraws consent and its address is suppressed"
    ),
    RowStatus.CLEANED: _l("Cleaned members: every address bounced and is suppressed"),
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
        "organisation name",
        "organization name",
        "company",
    ],
    "kind": ["tipo", "tipo donatore", "kind", "type", "contact type"],
    "phone": ["telefono", "cellulare", "tel", "phone", "phone number", "mobile"],
    "street": ["indirizzo", "via", "address", "street", "street address"],
    "postal_code": ["cap", "codice postale", "postal code", "postcode", "zip", "zip code"],
    "town": ["città", "comune", "località", "town", "city"],
    "province": ["provincia", "prov", "province", "state", "state province"],
    "country": ["paese", "nazione", "country"],
    "codice_fiscale": ["codice fiscale", "cf", "c.f.", "tax code", "fiscal code"],
    "partita_iva": ["partita iva", "p.iva", "piva", "vat", "vat number"],
    "language": ["lingua", "language", "preferred language"],
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
    "unsubscribed_at": ["data disiscrizione", "unsubscribed at", "unsubscribe time"],
    "bounced_at": ["data rimbalzo", "bounced at", "bounce time"],
    "opt_out": ["non inviare email", "opt out", "do not email", "no email"],
}

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
    # Only in the export of unsubscribed members (Mailchimp writes its times in UTC).
    "unsubscribed_at": ["UNSUB_TIME"],
    "status_note": ["UNSUB_CAMPAIGN_TITLE", "UNSUB_REASON", "UNSUB_REASON_OTHER"],
    # Only in the export of cleaned members: addresses that bounced.
    "bounced_at": ["CLEAN_TIME"],
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
        "UNSUB_CAMPAIGN_ID",
        "CLEAN_CAMPAIGN_TITLE",
        "CLEAN_CAMPAIGN_ID",
    ],
}

# A CiviCRM contact export (its field labels); privacy flags are Yes/No or 1/0.
CIVICRM = {
    "kind": ["Contact Type"],
    "organisation_name": ["Organization Name"],
    "street": ["Street Address"],
    "town": ["City"],
    "province": ["State", "State/Province"],
    "opt_out": ["Do Not Email", "No Bulk Emails (User Opt Out)", "Is Opt Out"],
    "on_hold": ["On Hold"],
    "tags": ["Tag(s)"],
    "notes": ["Note(s)"],
    IGNORE: [
        "Contact ID",
        "Contact Subtype",
        "Display Name",
        "Sort Name",
        "Household Name",
        "Do Not Mail",
        "Do Not Phone",
        "Do Not SMS",
        "Do Not Trade",
        "Group(s)",
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
        "label": _l("Mailchimp audience export (subscribed, unsubscribed or cleaned)"),
        "headers": _index(GENERIC, MAILCHIMP),
        "timezone": "UTC",
    },
    "civicrm": {
        "label": _l("CiviCRM contact export"),
        "headers": _index(GENERIC, CIVICRM),
        "timezone": "Europe/Rome",
    },
}

TIMEZONES = {
    "Europe/Rome": _l("Italian time"),
    "UTC": _l("UTC (Mailchimp exports)"),
}


def _mailchimp_status(columns: list[str]) -> str:
    """Mailchimp exports each status to its own file, told apart by their columns."""
    if "unsubscribed_at" in columns:
        return RowStatus.UNSUBSCRIBED
    if "bounced_at" in columns:
        return RowStatus.CLEANED
    return RowStatus.SUBSCRIBED


# Headers only these exports write: a file carrying one is read as that export whatever
# preset was chosen, so its status and privacy columns are never ignored.
MARKS = {
    "mailchimp": _index(
        {"mark": ["UNSUB_TIME", "CLEAN_TIME", "OPTIN_TIME", "MEMBER_RATING", "LEID", "EUID"]}
    ),
    "civicrm": _index(
        {"mark": ["Do Not Email", "No Bulk Emails (User Opt Out)", "Is Opt Out", "On Hold"]}
    ),
}


def detect_preset(headers: list[str], chosen: str) -> str:
    """The export the headers show (Mailchimp before CiviCRM), else the chosen preset."""
    keys = {header_key(h) for h in headers}
    return next((name for name, marks in MARKS.items() if keys & marks.keys()), chosen)


def initial_mapping(headers: list[str], preset: str) -> dict:
    """The mapping a preset suggests: one target per column, the zone of times, and what the
    rows are (a Mailchimp export: its members' status; otherwise what each row says). A file
    that shows itself a Mailchimp or CiviCRM export by its headers is mapped as one."""
    preset = detect_preset(headers, preset)
    found = PRESETS[preset]["headers"]
    columns = [found.get(header_key(h), IGNORE) for h in headers]
    status = _mailchimp_status(columns) if preset == "mailchimp" else RowStatus.ROWS
    return {"columns": columns, "status": status, "timezone": PRESETS[preset]["timezone"]}
