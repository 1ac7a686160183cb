"""How the donor record names its fields and the kinds of things in a donor's history."""

from flask_babel import lazy_gettext as _l

from donors.models import (
    ConsentAction,
    ConsentPurpose,
    ConsentSource,
    DonorKind,
    DonorSource,
    InteractionKind,
)
from payments.models import RecurringStatus

# The donor's fields as staff read them, in forms and in the record's history.
FIELD_LABELS = {
    "kind": _l("Donor"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "organisation_name": _l("Organisation name"),
    "email": _l("Primary e-mail"),
    "emails": _l("Other e-mail addresses"),
    "phone": _l("Phone"),
    "codice_fiscale": _l("Codice fiscale"),
    "partita_iva": _l("Partita IVA"),
    "street": _l("Street and number"),
    "postal_code": _l("Postal code"),
    "town": _l("Town"),
    "province": _l("Province"),
    "country": _l("Country"),
    "language": _l("Language"),
    "tags": _l("Tags"),
    "notes": _l("Notes"),
}
KIND = {DonorKind.PERSON: _l("A person"), DonorKind.ORGANISATION: _l("An organisation")}
SOURCE = {
    DonorSource.CAMPAIGN: _l("Gave through a campaign"),
    DonorSource.IMPORT: _l("Imported"),
    DonorSource.STAFF: _l("Added by staff"),
    DonorSource.FORM: _l("Signed up for the newsletter"),
}
INTERACTION = {
    InteractionKind.CALL: _l("Call"),
    InteractionKind.MEETING: _l("Meeting"),
    InteractionKind.LETTER: _l("Letter"),
    InteractionKind.EMAIL: _l("E-mail"),
    InteractionKind.OTHER: _l("Other"),
}
CONSENT_PURPOSE = {
    ConsentPurpose.NEWSLETTER: _l("Newsletter"),
    ConsentPurpose.REPORT_BACK: _l("Report-back mails"),
}
CONSENT_ACTION = {
    ConsentAction.REQUESTED: _l("confirmation asked"),
    ConsentAction.GRANTED: _l("consent given"),
    ConsentAction.WITHDRAWN: _l("consent withdrawn"),
}
CONSENT_SOURCE = {
    ConsentSource.FORM: _l("form"),
    ConsentSource.DOUBLE_OPT_IN: _l("confirmation link"),
    ConsentSource.IMPORT: _l("import"),
    ConsentSource.STAFF: _l("staff"),
    ConsentSource.PORTAL: _l("donor portal"),
    ConsentSource.UNSUBSCRIBE: _l("unsubscribe link"),
    ConsentSource.ERASURE: _l("erasure"),
    ConsentSource.BOUNCE: _l("bounced mail"),
}
RECURRING = {
    RecurringStatus.ACTIVE: _l("Active"),
    RecurringStatus.PAST_DUE: _l("Payment overdue"),
    RecurringStatus.CANCELLED: _l("Stopped"),
}
# Kinds of mail queued by other packages; an unknown kind is shown as it is stored.
# Every kind of mail the queue sends a donor (mailing's RENDERERS).
MAIL = {
    "thank_you": _l("Thank-you"),
    "transfer_details": _l("Bank transfer details"),
    "portal_link": _l("Link to the donor area"),
    "newsletter_confirm": _l("Newsletter sign-up confirmation"),
    "receipt": _l("Receipt"),
    "annual_receipt": _l("Annual receipt"),
}


def init_app(app) -> None:
    app.jinja_env.globals["donor_labels"] = {
        "field": FIELD_LABELS,
        "kind": KIND,
        "source": SOURCE,
        "interaction": INTERACTION,
        "consent_purpose": CONSENT_PURPOSE,
        "consent_action": CONSENT_ACTION,
        "consent_source": CONSENT_SOURCE,
        "recurring": RECURRING,
        "mail": MAIL,
    }
