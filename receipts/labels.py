"""Translated names of receipt states and settings."""

from flask_babel import lazy_gettext as _l

from receipts.models import Delivery, Policy, ReceiptStatus

STATUS = {ReceiptStatus.ISSUED: _l("Issued"), ReceiptStatus.VOIDED: _l("Voided")}
POLICY = {
    Policy.PER_GIFT: _l("For each gift, when it succeeds"),
    Policy.ANNUAL: _l("Once a year per donor (annual receipt)"),
    Policy.BOTH: _l("Both: for each gift and once a year"),
}
DELIVERY = {
    Delivery.ATTACH: _l("Attached to the thank-you mail"),
    Delivery.AFTER: _l("In a mail of its own after the thank-you"),
}


def init_app(app) -> None:
    app.jinja_env.globals.update(receipt_status_label=STATUS.get, receipt_policy_label=POLICY.get)
