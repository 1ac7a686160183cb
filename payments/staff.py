"""The back office for gifts: list and export, detail, confirm, refund, offline gifts, events."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaigns.models import Campaign
from donors.identity import DonorDetails
from legami import audit
from legami.access import roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Organisation, Role
from legami.validation import Invalid, apply_to_form
from payments import listing, treasury
from payments.forms import ConfirmTransferForm, OfflineGiftForm, RefundForm
from payments.models import Donation, Method, PaymentEvent, Status

bp = Blueprint("payments_staff", __name__, url_prefix="/staff")

PAGE_SIZE = 50


@bp.get("/donations")
@roles_required(Role.TREASURER, Role.STAFF)
def donations():
    filters = listing.Filters.from_args(request.args)
    page = db.paginate(listing.query(filters), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "payments/staff/donations.html",
        page=page,
        filters=filters,
        campaigns=db.session.scalars(select(Campaign).order_by(Campaign.title)).all(),
        organisations=db.session.scalars(select(Organisation).order_by(Organisation.name)).all(),
        methods=list(Method),
        statuses=list(Status),
    )


@bp.get("/donations.csv")
@roles_required(Role.TREASURER)
def export_donations():
    filters = listing.Filters.from_args(request.args)
    rows = db.session.scalars(listing.query(filters)).all()
    audit.record(
        current_user,
        "donations.export",
        "donations",
        rows=len(rows),
        filters={k: str(v) for k, v in vars(filters).items() if v},
    )
    db.session.commit()
    return Response(
        listing.export_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=donazioni.csv"},
    )


def _detail(donation: Donation, confirm=None, refund=None, status: int = 200):
    events = db.session.scalars(
        select(PaymentEvent)
        .where(PaymentEvent.donation_id == donation.id)
        .order_by(PaymentEvent.received_at)
    ).all()
    return render_template(
        "payments/staff/donation.html",
        donation=donation,
        events=events,
        confirm=confirm or ConfirmTransferForm(),
        refund=refund or RefundForm(),
    ), status


@bp.get("/donations/<int:donation_id>")
@roles_required(Role.TREASURER, Role.STAFF)
def donation(donation_id: int):
    return _detail(db.get_or_404(Donation, donation_id))


@bp.post("/donations/<int:donation_id>/confirm")
@roles_required(Role.TREASURER)
def confirm(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = ConfirmTransferForm()
    if form.validate_on_submit():
        try:
            treasury.confirm_transfer(found.id, form.received_on.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Transfer confirmed."), "info")
            return redirect(url_for(".donation", donation_id=found.id))
    return _detail(found, confirm=form, status=422)


@bp.post("/donations/<int:donation_id>/refund")
@roles_required(Role.TREASURER)
def refund(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            treasury.refund(found.id, form.amount.cents, form.reason.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(
                _("Refund recorded.")
                if found.method != Method.CARD
                else _("Refund sent to Stripe; the gift changes when Stripe confirms it."),
                "info",
            )
            return redirect(url_for(".donation", donation_id=found.id))
    return _detail(db.get_or_404(Donation, donation_id), refund=form, status=422)


@bp.route("/donations/offline", methods=["GET", "POST"])
@roles_required(Role.TREASURER, Role.STAFF)
def offline():
    form = OfflineGiftForm()
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.title)).all()
    form.campaign_id.choices = choices((c.id, c.title) for c in campaigns)
    if form.validate_on_submit():
        try:
            gift = treasury.record_offline(
                db.get_or_404(Campaign, form.campaign_id.data),
                form.method.data,
                form.amount.cents,
                form.received_on.data,
                DonorDetails(
                    email=form.email.data,
                    first_name=form.first_name.data or "",
                    last_name=form.last_name.data,
                ),
                current_user,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Gift recorded."), "info")
            return redirect(url_for(".donation", donation_id=gift.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("payments/staff/offline.html", form=form), status


@bp.get("/payments/events")
@roles_required(Role.TREASURER)
def events():
    page = db.paginate(
        select(PaymentEvent).order_by(PaymentEvent.received_at.desc()),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("payments/staff/events.html", page=page)
