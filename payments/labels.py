"""Translated names of payment methods and donation states."""

from flask_babel import lazy_gettext as _l

from payments.models import Method, Status
from payments.page_models import PageStatus

METHOD = {
    Method.CARD: _l("Card"),
    Method.BANK_TRANSFER: _l("Bank transfer"),
    Method.POSTAL: _l("Postal payment (bollettino or vaglia)"),
    Method.PAYPAL: _l("PayPal"),
    Method.SATISPAY: _l("Satispay"),
    Method.CHEQUE: _l("Cheque"),
    Method.CASH: _l("Cash"),
    Method.OTHER_UNTRACEABLE: _l("Other, not traceable"),
}
# What staff record by hand: card gifts come through Stripe only.
OFFLINE_METHODS = {m: label for m, label in METHOD.items() if m != Method.CARD}
STATUS = {
    Status.PENDING: _l("Pending"),
    Status.SUCCEEDED: _l("Received"),
    Status.FAILED: _l("Failed"),
    Status.REFUNDED: _l("Refunded"),
    Status.CANCELLED: _l("Cancelled"),
    Status.REVIEW: _l("Needs review"),
}
PAGE_STATUS = {
    PageStatus.UNCONFIRMED: _l("Waiting for the owner's e-mail"),
    PageStatus.PENDING: _l("Waiting for approval"),
    PageStatus.LIVE: _l("Live"),
    PageStatus.HIDDEN: _l("Hidden"),
    PageStatus.REJECTED: _l("Rejected"),
}


def init_app(app) -> None:
    app.jinja_env.globals.update(
        method_label=METHOD.get,
        donation_status_label=STATUS.get,
        page_status_label=PAGE_STATUS.get,
    )
