"""The treasurer's receipts: list, detail, PDF download, void, send again."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.validation import Invalid, apply_to_form
from receipts import issuing, listing, on_request, pdf, signals
from receipts.forms import VoidForm
from receipts.models import Kind, Receipt, ReceiptStatus

bp = Blueprint("receipts_staff", __name__, url_prefix="/staff/receipts")

PAGE_SIZE = 50


@bp.get("")
@roles_required(Role.TREASURER, Role.STAFF)
def receipts():
    filters = listing.Filters.from_args(request.args)
    page = db.paginate(listing.query(filters), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "receipts/staff/receipts.html",
        page=page,
        filters=filters,
        organisations=db.session.scalars(select(Organisation).order_by(Organisation.name)).all(),
        statuses=list(ReceiptStatus),
    )


def _detail(found: Receipt, form: VoidForm | None = None, status: int = 200):
    return render_template(
        "receipts/staff/receipt.html", receipt=found, form=form or VoidForm()
    ), status


@bp.get("/<int:receipt_id>")
@roles_required(Role.TREASURER, Role.STAFF)
def receipt(receipt_id: int):
    return _detail(db.get_or_404(Receipt, receipt_id))


@bp.get("/<int:receipt_id>/pdf")
@roles_required(Role.TREASURER, Role.STAFF)
def download(receipt_id: int):
    """The stored PDF; a voided receipt's watermarked copy unless the original is asked for."""
    found = db.get_or_404(Receipt, receipt_id)
    return pdf.download(found, original=request.args.get("original") == "1")


@bp.post("/<int:receipt_id>/void")
@roles_required(Role.TREASURER)
def void(receipt_id: int):
    found = db.get_or_404(Receipt, receipt_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            issuing.void(found, form.reason.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Receipt %(number)s voided.", number=found.display_number), "info")
            return redirect(url_for(".receipt", receipt_id=found.id))
    return _detail(db.get_or_404(Receipt, receipt_id), form=form, status=422)


@bp.post("/<int:receipt_id>/send")
@roles_required(Role.TREASURER, Role.STAFF)
def send_again(receipt_id: int):
    """Mail a valid receipt to the donor again (the mail queue sends it)."""
    found = db.get_or_404(Receipt, receipt_id)
    if found.kind == Kind.SUMMARY:
        flash(
            _("A summary is not a receipt: it is not mailed (the donor sees it in the portal)."),
            "error",
        )
    elif found.status != ReceiptStatus.ISSUED:
        flash(_("Only a valid receipt can be sent again."), "error")
    else:
        signals.receipt_send_requested.send(current_app._get_current_object(), receipt_id=found.id)
        db.session.commit()
        flash(
            _("Receipt %(number)s will be sent to the donor.", number=found.display_number), "info"
        )
    return redirect(url_for(".receipt", receipt_id=found.id))


@bp.post("/gifts/<int:donation_id>/issue")
@roles_required(Role.TREASURER)
def issue_on_request(donation_id: int):
    """Issue the receipt of a gift below the threshold, for a donor who asked the treasurer."""
    try:
        found = on_request.issue_on_request(donation_id, current_user, by="treasurer")
    except Invalid as invalid:
        db.session.rollback()
        flash(str(invalid.errors["gift"]), "error")
        return redirect(
            url_for(
                "receipts_exports.below_threshold",
                year=request.form.get("year", type=int),
                organisation=request.form.get("organisation", type=int),
            )
        )
    db.session.commit()
    flash(
        _(
            "Receipt %(number)s issued: it will be mailed to the donor.",
            number=found.display_number,
        ),
        "info",
    )
    return redirect(url_for(".receipt", receipt_id=found.id))
