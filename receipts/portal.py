"""The donor portal's receipts: the donor's own receipts, valid and voided, as stored PDFs.

A download is a stored file, identical on every download: what was mailed, or its copy marked
COPIA when the organisation wants one (a voided receipt: its copy watermarked ANNULLATA).
Another donor's receipt is a 404, as if it did not exist.

A gift below its organisation's threshold has no receipt unless the donor asks for one: the
page lists those gifts with a button, and the receipt is issued at once (receipts.on_request).
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from donors.portal import current_donor, portal_required
from legami.extensions import db
from legami.validation import Invalid
from receipts import on_request, pdf
from receipts.models import Receipt

bp = Blueprint("receipts_portal", __name__, url_prefix="/portal")


@bp.get("/ricevute")
@portal_required
def receipts():
    found = db.session.scalars(
        select(Receipt)
        .where(Receipt.donor_id == current_donor().id)
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
    ).all()
    askable = db.session.scalars(on_request.askable(current_donor().id)).all()
    return render_template("receipts/portal/receipts.html", receipts=found, askable=askable)


@bp.post("/ricevute/richiesta")
@portal_required
def ask():
    """The donor asks for the receipt of a gift below the threshold (its id in the form)."""
    try:
        found = on_request.issue_on_request(
            request.form.get("gift", 0, type=int),
            None,
            by="portal",
            donor_id=current_donor().id,
        )
    except Invalid as invalid:
        db.session.rollback()
        flash(str(invalid.errors["gift"]), "error")
    else:
        db.session.commit()
        flash(
            _(
                "Here is your receipt %(number)s: download it below; we are also mailing it.",
                number=found.display_number,
            ),
            "info",
        )
    return redirect(url_for(".receipts"))


@bp.get("/ricevute/<int:receipt_id>.pdf")
@portal_required
def download(receipt_id: int):
    found = db.first_or_404(
        select(Receipt).where(Receipt.id == receipt_id, Receipt.donor_id == current_donor().id)
    )
    return pdf.download(found)
