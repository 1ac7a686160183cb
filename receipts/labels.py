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

# Why a gift has no valid receipt (receipts.exports.REASONS).
UNRECEIPTED = {
    "due": _l("Waiting to be issued (a few minutes)"),
    "annual_policy": _l("Annual receipts only: the annual receipt is not issued yet"),
    "below_threshold": _l("Below the organisation's threshold (a receipt only if asked)"),
    "not_deductible": _l("Cash and other untraceable gifts (not tax-deductible) without a receipt"),
    "missing": _l("Tax-deductible gifts without a receipt"),
}


def init_app(app) -> None:
    app.jinja_env.globals.update(
        receipt_status_label=STATUS.get,
        receipt_policy_label=POLICY.get,
        unreceipted_label=UNRECEIPTED.get,
    )
