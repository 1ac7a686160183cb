"""The donor portal's receipts: the donor's own receipts, valid and voided, as stored PDFs.

A download is a stored file, identical on every download: what was mailed, or its copy marked
COPIA when the organisation wants one (a voided receipt: its copy watermarked ANNULLATA).
Another donor's receipt is a 404, as if it did not exist.
"""

from flask import Blueprint, render_template
from sqlalchemy import select

from donors.portal import current_donor, portal_required
from legami.extensions import db
from receipts import pdf
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
    return render_template("receipts/portal/receipts.html", receipts=found)


@bp.get("/ricevute/<int:receipt_id>.pdf")
@portal_required
def download(receipt_id: int):
    found = db.first_or_404(
        select(Receipt).where(Receipt.id == receipt_id, Receipt.donor_id == current_donor().id)
    )
    return pdf.download(found)
