"""The back office for matching challenges: set up, follow (pledged versus received),
request the payment with the matcher's statement, record the payment."""

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus
from donors.identity import DonorDetails
from legami import audit
from legami.access import roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Role
from legami.validation import Invalid, apply_to_form
from payments import matching, matching_settlement, matching_setup, matching_statement
from payments.matching_forms import AskForm, ChallengeForm, SettleForm
from payments.matching_models import Challenge

bp = Blueprint("payments_matching", __name__, url_prefix="/staff/raddoppi")


def init_app(app) -> None:
    from campaigns.panels import add_panel
    from legami.access import add_home, add_menu
    from payments import raising_home

    app.register_blueprint(bp)
    matching.connect_signals(app)
    app.jinja_env.globals["matching_running"] = matching.running
    app.jinja_env.globals["matched_for"] = matching.matched_for
    add_panel(app, "payments/matching/_panel.html")
    add_home(app, "payments/matching/home.html", raising_home.panel, Role.STAFF, Role.TREASURER)
    add_menu(
        app,
        _l("Matching challenges"),
        "payments_matching.challenges",
        Role.STAFF,
        Role.TREASURER,
        group="fundraising",
    )


@bp.get("/")
@roles_required(Role.STAFF, Role.TREASURER)
def challenges():
    return render_template(
        "payments/matching/challenges.html", rows=matching_settlement.pledged_versus_received()
    )


def _matcher(form: ChallengeForm) -> DonorDetails:
    name = (form.matcher_name.data or "").strip()
    if form.matcher_kind.data == "person":
        first, _sep, last = name.partition(" ")
        return DonorDetails(email=form.matcher_email.data, first_name=first, last_name=last)
    return DonorDetails(email=form.matcher_email.data, kind="organisation", organisation_name=name)


@bp.route("/nuovo", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def new():
    form = ChallengeForm()
    campaigns = db.session.scalars(
        select(Campaign)
        .where(Campaign.status.in_([CampaignStatus.DRAFT, CampaignStatus.LIVE]))
        .order_by(Campaign.title)
    ).all()
    form.campaign_id.choices = choices((c.id, c.title) for c in campaigns)
    if form.validate_on_submit():
        try:
            challenge = matching_setup.create(
                matching_setup.ChallengeRequest(
                    campaign=db.get_or_404(Campaign, form.campaign_id.data),
                    matcher=_matcher(form),
                    ratio_percent=form.ratio_percent.data,
                    cap_cents=form.cap.cents,
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                    one_off=form.one_off.data,
                    monthly=form.monthly.data,
                    first_time_only=form.first_time_only.data,
                    per_gift_ceiling_cents=form.per_gift_ceiling.cents,
                    public_text=form.public_text.data or "",
                    position=form.position.data or 0,
                ),
                current_user,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, {"campaign": "campaign_id"})
        else:
            db.session.commit()
            flash(_("Challenge saved."), "info")
            return redirect(url_for(".challenge", challenge_id=challenge.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("payments/matching/new.html", form=form), status


def _detail(challenge: Challenge, settle: SettleForm | None = None, status: int = 200):
    return render_template(
        "payments/matching/challenge.html",
        challenge=challenge,
        rows=matching_settlement.statement_rows(challenge),
        ask_form=AskForm(),
        settle_form=settle or SettleForm(),
    ), status


@bp.get("/<int:challenge_id>")
@roles_required(Role.STAFF, Role.TREASURER)
def challenge(challenge_id: int):
    return _detail(db.get_or_404(Challenge, challenge_id))


@bp.post("/<int:challenge_id>/richiesta")
@roles_required(Role.TREASURER)
def ask(challenge_id: int):
    challenge = db.get_or_404(Challenge, challenge_id)
    if AskForm().validate_on_submit():
        try:
            matching_settlement.ask(challenge.id, current_user)
        except Invalid as invalid:
            db.session.rollback()
            for message in invalid.errors.values():
                flash(str(message), "error")
        else:
            db.session.commit()
            flash(_("Payment requested: download the statement for the matcher."), "info")
    return redirect(url_for(".challenge", challenge_id=challenge_id))


@bp.post("/<int:challenge_id>/pagamento")
@roles_required(Role.TREASURER)
def settle(challenge_id: int):
    challenge = db.get_or_404(Challenge, challenge_id)
    form = SettleForm()
    if form.validate_on_submit():
        try:
            gift = matching_settlement.settle(
                challenge.id,
                form.amount.cents,
                form.received_on.data,
                form.trace_reference.data or "",
                current_user,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("The matcher's payment is recorded as their gift."), "info")
            return redirect(url_for("payments_staff.donation", donation_id=gift.id))
    return _detail(db.get_or_404(Challenge, challenge_id), settle=form, status=422)


def _statement_file(challenge: Challenge, kind: str) -> str:
    return f"raddoppio-{challenge.id}-{challenge.campaign.slug}.{kind}"


@bp.get("/<int:challenge_id>/prospetto.pdf")
@roles_required(Role.TREASURER)
def statement_pdf(challenge_id: int):
    challenge = db.get_or_404(Challenge, challenge_id)
    audit.record(current_user, "matching.statement", f"challenge:{challenge.id}", format="pdf")
    db.session.commit()
    name = _statement_file(challenge, "pdf")
    return Response(
        matching_statement.pdf(challenge),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/<int:challenge_id>/prospetto.csv")
@roles_required(Role.TREASURER)
def statement_csv(challenge_id: int):
    challenge = db.get_or_404(Challenge, challenge_id)
    audit.record(current_user, "matching.statement", f"challenge:{challenge.id}", format="csv")
    db.session.commit()
    body = "".join(matching_statement.csv_lines(challenge))
    name = _statement_file(challenge, "csv")
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
