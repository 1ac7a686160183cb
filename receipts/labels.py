"""Translated names of receipt states."""

from flask_babel import lazy_gettext as _l

from receipts.models import ReceiptStatus

STATUS = {ReceiptStatus.ISSUED: _l("Issued"), ReceiptStatus.VOIDED: _l("Voided")}


def init_app(app) -> None:
    app.jinja_env.globals.update(receipt_status_label=STATUS.get)
