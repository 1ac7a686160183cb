"""The back office for gifts: list and export, detail, confirm, refund, offline gifts, events."""

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaigns.models import Campaign
from donors.identity import DonorDetails
from donors.models import Donor
from legami import audit
from legami import confirm as confirm_step
from legami.access import roles_required
from legami.extensions import db
from legami.forms import choices
from legami.i18n import money, when
from legami.models import Organisation, Role
from legami.validation import Invalid, apply_to_form
from payments import bank_csv, camt, giving, listing, references, review, trace, treasury
from payments import statements as statements_service
from payments.forms import (
    ConfirmTransferForm,
    GiftDateForm,
    MatchLineForm,
    OfflineGiftForm,
    RefundForm,
    ReviewForm,
    StatementForm,
    TraceForm,
)
from payments.models import (
    BankStatement,
    BlockedAttempt,
    Donation,
    EventState,
    Method,
    PaymentEvent,
    RecurringGift,
    StatementLine,
    Status,
)

bp = Blueprint("payments_staff", __name__, url_prefix="/staff")

PAGE_SIZE = 50
CSV_FIELDS = (
    "date_column",
    "value_date_column",
    "date_format",
    "amount_column",
    "credit_column",
    "debit_column",
    "description_column",
    "payer_column",
    "currency_column",
    "delimiter",
)


@bp.get("/donations")
@roles_required(Role.TREASURER, Role.STAFF)
def donations():
    filters = listing.Filters.from_args(request.args)
    page = db.paginate(listing.query(filters), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "payments/staff/donations.html",
        page=page,
        filters=filters,
        totals=listing.totals(filters),
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


def _detail(
    donation: Donation,
    confirm=None,
    refund=None,
    gift_date=None,
    trace_form=None,
    review_form=None,
    status: int = 200,
):
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
        review_form=review_form or ReviewForm(),
        review=review.choices(donation) if donation.status == Status.REVIEW else None,
        gift_date=gift_date or GiftDateForm(received_on=donation.received_on),
        trace_form=trace_form
        or TraceForm(
            obj=donation,
            joint_email=donation.joint_donor.email if donation.joint_donor else "",
        ),
    ), status


@bp.get("/donations/<int:donation_id>")
@roles_required(Role.TREASURER, Role.STAFF)
def donation(donation_id: int):
    return _detail(db.get_or_404(Donation, donation_id))


def _thanked_for_good(donor: Donor) -> list[str]:
    """What every confirmation that makes a gift count says last: the thanks, and no undo."""
    return [
        _(
            "%(donor)s is thanked by e-mail at %(email)s, and the receipt is issued as "
            "the organisation's receipt settings say.",
            donor=donor.display_name,
            email=donor.email,
        ),
        _("This cannot be undone: only a refund takes the gift back."),
    ]


def _confirm_transfer_question(donation: Donation, received_on):
    amount, donor = money(donation.amount_cents, donation.currency), donation.donor
    return confirm_step.ask(
        _("Confirm the transfer of %(amount)s?", amount=amount),
        [
            _(
                "The gift of %(amount)s from %(donor)s is marked as received on %(day)s and "
                "counts towards “%(campaign)s”.",
                amount=amount,
                donor=donor.display_name,
                day=when(received_on, "long"),
                campaign=donation.campaign.title,
            ),
            *_thanked_for_good(donor),
        ],
        _("Yes, confirm the transfer of %(amount)s", amount=amount),
        url_for(".donation", donation_id=donation.id),
    )


def _refund_question(donation: Donation, cents: int):
    amount, donor = money(cents, donation.currency), donation.donor
    lines = [
        _(
            "%(amount)s of the gift of %(total)s from %(donor)s is refunded.",
            amount=amount,
            total=money(donation.amount_cents, donation.currency),
            donor=donor.display_name,
        ),
        _(
            "Stripe sends the money back to the card; until Stripe confirms, the gift shows "
            "“refund requested, waiting for Stripe”."
        )
        if donation.method == Method.CARD
        else _("The refund is recorded now: give the money back to the donor yourself."),
        _(
            "If the gift has a receipt, it is voided and a new one is issued for what remains, "
            "mailed to %(email)s.",
            email=donor.email,
        ),
        _("This cannot be undone."),
    ]
    return confirm_step.ask(
        _("Refund %(amount)s?", amount=amount),
        lines,
        _("Yes, refund %(amount)s", amount=amount),
        url_for(".donation", donation_id=donation.id),
    )


def _review_question(donation: Donation, decision: str, found: review.Choices):
    donor = donation.donor
    paid = money(donation.stripe_paid_cents, donation.stripe_paid_currency)
    back = url_for(".donation", donation_id=donation.id)
    if decision == review.ACCEPT:
        return confirm_step.ask(
            _("Accept the gift as %(amount)s?", amount=paid),
            [
                _(
                    "The gift from %(donor)s becomes %(paid)s, what Stripe charged, instead of "
                    "%(asked)s, and counts towards “%(campaign)s”.",
                    donor=donor.display_name,
                    paid=paid,
                    asked=money(donation.amount_cents, donation.currency),
                    campaign=donation.campaign.title,
                ),
                *_thanked_for_good(donor),
            ],
            _("Yes, accept %(amount)s", amount=paid),
            back,
        )
    refund_line = (
        _(
            "Stripe is asked to refund %(amount)s to the card; the refund shows on the gift "
            "until Stripe confirms it.",
            amount=money(found.to_refund_cents, donation.stripe_paid_currency),
        )
        if found.to_refund_cents
        else _("Stripe holds nothing of this payment any more: nothing is refunded.")
    )
    return confirm_step.ask(
        _("Cancel the gift of %(amount)s?", amount=paid),
        [
            refund_line,
            _(
                "The gift from %(donor)s is cancelled: it counts in no total, has no receipt "
                "and %(donor)s is not mailed.",
                donor=donor.display_name,
            ),
            _("This cannot be undone."),
        ],
        _("Yes, refund and cancel") if found.to_refund_cents else _("Yes, cancel the gift"),
        back,
    )


@bp.post("/donations/<int:donation_id>/review")
@roles_required(Role.TREASURER)
def resolve_review(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            if not confirm_step.confirmed():
                choices_now = review.check(found, form.decision.data)
                return _review_question(found, form.decision.data, choices_now)
            status = review.resolve(found.id, form.decision.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(
                _("The gift is accepted.")
                if status == Status.SUCCEEDED
                else _("The gift is cancelled."),
                "info",
            )
            return redirect(url_for(".donation", donation_id=found.id))
    return _detail(db.get_or_404(Donation, donation_id), review_form=form, status=422)


@bp.post("/donations/<int:donation_id>/confirm")
@roles_required(Role.TREASURER)
def confirm(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = ConfirmTransferForm()
    if form.validate_on_submit() and not confirm_step.confirmed():
        return _confirm_transfer_question(found, form.received_on.data)
    if form.validate_on_submit():
        try:
            treasury.confirm_transfer(found.id, form.received_on.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Transfer confirmed."), "info")
            return redirect(url_for(".donation", donation_id=found.id))
    return _detail(found, confirm=form, status=422)


@bp.post("/donations/<int:donation_id>/date")
@roles_required(Role.TREASURER)
def correct_date(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = GiftDateForm()
    if form.validate_on_submit():
        try:
            treasury.correct_date(found.id, form.received_on.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("The gift's date is corrected."), "info")
            return redirect(url_for(".donation", donation_id=found.id))
    return _detail(db.get_or_404(Donation, donation_id), gift_date=form, status=422)


@bp.post("/donations/<int:donation_id>/trace")
@roles_required(Role.TREASURER, Role.STAFF)
def save_trace(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = TraceForm()
    if form.validate_on_submit():
        try:
            trace.save_trace(
                found,
                form.trace_reference.data,
                form.cheque_bank.data,
                form.joint_email.data,
                current_user,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Payment reference saved."), "info")
            return redirect(url_for(".donation", donation_id=found.id))
    return _detail(db.get_or_404(Donation, donation_id), trace_form=form, status=422)


@bp.post("/donations/<int:donation_id>/refund")
@roles_required(Role.TREASURER)
def refund(donation_id: int):
    found = db.get_or_404(Donation, donation_id)
    form = RefundForm()
    if form.validate_on_submit() and not confirm_step.confirmed():
        try:
            treasury.check_refund(found, form.amount.cents)
        except Invalid as invalid:
            apply_to_form(form, invalid)
            return _detail(found, refund=form, status=422)
        return _refund_question(found, form.amount.cents)
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
    state = request.args.get("state", "")
    query = select(PaymentEvent).order_by(PaymentEvent.received_at.desc())
    if state in set(EventState):
        query = query.where(PaymentEvent.state == state)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("payments/staff/events.html", page=page, state=state)


def _statement_form() -> StatementForm:
    form = StatementForm()
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    form.organisation_id.choices = choices((o.id, o.name) for o in organisations)
    return form


@bp.route("/statements", methods=["GET", "POST"])
@roles_required(Role.TREASURER)
def statements():
    form = _statement_form()
    if request.method == "GET" and form.organisation_id.choices:
        mapping = statements_service.saved_mapping(form.organisation_id.choices[0].value)
        if mapping:
            for name in CSV_FIELDS:
                getattr(form, name).data = getattr(mapping, name)
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            if form.format.data == "csv":
                mapping = statements_service.save_mapping(
                    form.organisation_id.data, **{n: getattr(form, n).data for n in CSV_FIELDS}
                )
                parsed = bank_csv.read(data, mapping)
            else:
                parsed = camt.read(data)
            result = statements_service.import_statement(
                form.organisation_id.data,
                form.file.data.filename or "statement",
                form.format.data,
                parsed,
                current_user,
            )
            db.session.commit()
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        except IntegrityError:
            db.session.rollback()
            current_app.logger.exception("statement import refused by the database")
            form.form_errors.append(
                _(
                    "The statement could not be stored (another import of the same lines at "
                    "the same moment?). Nothing was stored: import it again."
                )
            )
        else:
            counts = result.counts
            parts = [
                ngettext(
                    "%(num)s line matched and confirmed",
                    "%(num)s lines matched and confirmed",
                    counts["matched"],
                ),
                ngettext("%(num)s to check", "%(num)s to check", counts["unmatched"]),
                ngettext("%(num)s reversal", "%(num)s reversals", counts["reversal"]),
                ngettext(
                    "%(num)s settled without a gift",
                    "%(num)s settled without a gift",
                    counts["ignored"],
                ),
                ngettext("%(num)s already imported", "%(num)s already imported", counts["already"]),
                ngettext("%(num)s row left out", "%(num)s rows left out", counts["left_out"]),
            ]
            flash(", ".join(parts) + ".", "info")
            return redirect(url_for(".statement", statement_id=result.statement.id))
    recent = db.session.scalars(
        select(BankStatement).order_by(BankStatement.imported_at.desc()).limit(20)
    ).all()
    status = 422 if form.errors or form.form_errors else 200
    return render_template("payments/staff/statements.html", form=form, recent=recent), status


@bp.get("/statements/<int:statement_id>")
@roles_required(Role.TREASURER)
def statement(statement_id: int):
    return render_template(
        "payments/staff/statement.html",
        statement=db.get_or_404(BankStatement, statement_id),
        match_form=MatchLineForm(),
        reasons=statements_service.REASONS,
        notes=statements_service.NOTES,
        explain=statements_service.explain,
    )


@bp.post("/statements/lines/<int:line_id>/match")
@roles_required(Role.TREASURER)
def match_line(line_id: int):
    line = db.get_or_404(StatementLine, line_id)
    form = MatchLineForm()
    if form.validate_on_submit():
        found = references.find_references(form.reference.data)
        donation = (
            db.session.scalar(
                select(Donation).where(
                    Donation.payment_reference == found[0],
                    Donation.organisation_id == line.organisation_id,
                )
            )
            if found
            else None
        )
        try:
            if donation is None:
                raise Invalid({"reference": _("No gift has this reference.")})
            statements_service.match_by_hand(line.id, donation, current_user)
            db.session.commit()
        except Invalid as invalid:
            db.session.rollback()
            flash(" ".join(str(m) for m in invalid.errors.values()), "error")
        else:
            flash(_("Line matched; the gift is confirmed."), "info")
    return redirect(url_for(".statement", statement_id=line.statement_id))


@bp.get("/donations/blocked")
@roles_required(Role.TREASURER, Role.STAFF)
def blocked():
    page = db.paginate(
        select(BlockedAttempt).order_by(BlockedAttempt.created_at.desc()),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("payments/staff/blocked.html", page=page)


@bp.post("/recurring/<int:gift_id>/cancel")
@roles_required(Role.TREASURER, Role.STAFF)
def cancel_recurring(gift_id: int):
    gift = db.get_or_404(RecurringGift, gift_id)
    giving.cancel_monthly(gift, by="staff", user=current_user)
    flash(_("The monthly gift is stopped."), "info")
    return redirect(request.referrer or url_for(".donations"))
