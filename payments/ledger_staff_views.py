"""The back office of the ledger: the treasurer records and reverses expenses, an admin
approves them, staff set each campaign's strategy and the yearly plan."""

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaigns.models import Campaign, CampaignStatus, Lab, Pact
from legami import params
from legami.access import roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Organisation, Role
from legami.timeutil import today_rome
from legami.validation import Invalid, apply_to_form
from payments import expenses, ledger, ledger_demo, ledger_home, plan
from payments.ledger_forms import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    STRATEGY_LABELS,
    ApproveForm,
    ExpenseForm,
    ReverseForm,
    StrategyForm,
    plan_form,
)
from payments.ledger_models import Expense, PlanDimension

bp = Blueprint("payments_ledger_staff", __name__, url_prefix="/staff/fondi")


def plan_line_label(dimension: str, key: str) -> str:
    labels = STRATEGY_LABELS if dimension == PlanDimension.STRATEGY else CHANNEL_LABELS
    return str(labels.get(key, key))


def init_app(app) -> None:
    from legami.access import add_home, add_menu
    from legami.cli import add_demo

    app.register_blueprint(bp)
    add_demo(app, ledger_demo.load)
    app.jinja_env.globals["expense_category_label"] = lambda key: CATEGORY_LABELS.get(key, key)
    app.jinja_env.globals["plan_line_label"] = plan_line_label
    add_home(app, "payments/ledger/home.html", ledger_home.panel, Role.TREASURER, order=25)
    add_menu(
        app,
        _l("Expenses and outcomes"),
        "payments_ledger_staff.index",
        Role.TREASURER,
        Role.STAFF,
        group="treasury",
    )
    add_menu(
        app,
        _l("Fundraising plan"),
        "payments_ledger_staff.plan_page",
        Role.TREASURER,
        Role.STAFF,
        group="fundraising",
    )


def _campaigns() -> list[Campaign]:
    return list(
        db.session.scalars(
            select(Campaign)
            .options(selectinload(Campaign.pacts), selectinload(Campaign.labs))
            .order_by(Campaign.title)
        )
    )


@bp.get("/")
@roles_required(Role.TREASURER, Role.STAFF)
def index():
    campaigns = [c for c in _campaigns() if c.status != CampaignStatus.DRAFT]
    entries = db.session.scalars(
        select(Expense).order_by(Expense.recorded_at.desc(), Expense.id.desc()).limit(200)
    ).all()
    return render_template(
        "payments/ledger/staff_index.html",
        entries=entries,
        campaigns=[(c, ledger.for_campaign(c), ledger.strategy_of(c)) for c in campaigns],
        strategies=STRATEGY_LABELS,
        strategy_form=StrategyForm(),
        pacts=db.session.scalars(select(Pact).order_by(Pact.title)).all(),
        labs=db.session.scalars(select(Lab).order_by(Lab.title)).all(),
    )


def _programme(value: str) -> tuple[Pact | None, Lab | None]:
    kind, _sep, raw = (value or "").partition(":")
    if not raw:
        return None, None
    try:
        row_id = params.parse(raw, params.ID, "programme")
    except params.BadParameter:
        return None, None
    if kind == "pact":
        return db.session.get(Pact, row_id), None
    if kind == "lab":
        return None, db.session.get(Lab, row_id)
    return None, None


@bp.route("/spese/nuova", methods=["GET", "POST"])
@roles_required(Role.TREASURER)
def new_expense():
    form = ExpenseForm()
    campaigns = _campaigns()
    form.campaign_id.choices = choices((c.id, c.title) for c in campaigns)
    pacts = db.session.scalars(select(Pact).order_by(Pact.title))
    labs = db.session.scalars(select(Lab).order_by(Lab.title))
    form.programme.choices = choices(
        [("", _("The campaign in general"))]
        + [(f"pact:{p.id}", _("Pact: %(title)s", title=p.title)) for p in pacts]
        + [(f"lab:{lab.id}", _("Lab: %(title)s", title=lab.title)) for lab in labs]
    )
    if form.validate_on_submit():
        pact, lab = _programme(form.programme.data)
        try:
            document = None
            upload = request.files.get("document")
            if upload and upload.filename:
                document = expenses.save_document(upload)
            expense = expenses.record(
                expenses.ExpenseRequest(
                    campaign=db.get_or_404(Campaign, form.campaign_id.data),
                    spent_on=form.spent_on.data,
                    payee=form.payee.data,
                    category=form.category.data,
                    description=form.description.data,
                    amount_cents=form.amount.cents,
                    pact=pact,
                    lab=lab,
                    document=document,
                ),
                current_user,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, {"amount": "amount", "programme": "programme"})
        else:
            db.session.commit()
            flash(
                _("Expense recorded: another person must approve it before it is public."), "info"
            )
            return redirect(url_for(".expense", expense_id=expense.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("payments/ledger/new_expense.html", form=form), status


def _detail(expense: Expense, reverse_form=None, status: int = 200):
    return render_template(
        "payments/ledger/expense.html",
        expense=expense,
        approve_form=ApproveForm(),
        reverse_form=reverse_form or ReverseForm(),
    ), status


@bp.get("/spese/<int:expense_id>")
@roles_required(Role.TREASURER, Role.STAFF)
def expense(expense_id: int):
    return _detail(db.get_or_404(Expense, expense_id))


@bp.get("/spese/<int:expense_id>/documento")
@roles_required(Role.TREASURER)
def document(expense_id: int):
    found = db.get_or_404(Expense, expense_id)
    if not found.document:
        abort(404)
    kind = found.document.rsplit(".", 1)[-1]
    return send_file(
        expenses.documents_folder() / found.document,
        mimetype=expenses.DOCUMENT_TYPES[kind],
        download_name=f"expense-{found.id}.{kind}",
    )


@bp.post("/spese/<int:expense_id>/approva")
@roles_required(Role.ADMIN)
def approve(expense_id: int):
    if not ApproveForm().validate_on_submit():
        abort(400)
    found = expenses.lock(expense_id) or abort(404)
    try:
        expenses.approve(found, current_user)
    except Invalid as invalid:
        db.session.rollback()
        for message in invalid.errors.values():
            flash(str(message), "error")
    else:
        db.session.commit()
        flash(_("Expense approved: it is now public."), "info")
    return redirect(url_for(".expense", expense_id=expense_id))


@bp.post("/spese/<int:expense_id>/storna")
@roles_required(Role.TREASURER)
def reverse(expense_id: int):
    form = ReverseForm()
    found = expenses.lock(expense_id) or abort(404)
    if not form.validate_on_submit():
        return _detail(found, form, 422)
    try:
        reversal = expenses.reverse(found, form.reason.data, current_user)
    except Invalid as invalid:
        db.session.rollback()
        apply_to_form(form, invalid)
        return _detail(db.get_or_404(Expense, expense_id), form, 422)
    db.session.commit()
    flash(_("Reversing entry recorded."), "info")
    return redirect(url_for(".expense", expense_id=reversal.id))


@bp.post("/campagne/<int:campaign_id>/strategia")
@roles_required(Role.TREASURER, Role.STAFF)
def strategy(campaign_id: int):
    form = StrategyForm()
    campaign = db.get_or_404(Campaign, campaign_id)
    if form.validate_on_submit():
        ledger.set_strategy(campaign, form.strategy.data)
        db.session.commit()
        flash(_("Strategy saved."), "info")
    else:
        flash(_("Choose a strategy."), "error")
    return redirect(url_for(".index"))


def _organisation() -> tuple[Organisation | None, list[Organisation]]:
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    wanted = request.args.get("organisation_id")
    if wanted:
        chosen = db.session.get(Organisation, params.parse(wanted, params.ID, "organisation_id"))
        if chosen is None:
            abort(404)
        return chosen, organisations
    return (organisations[0] if organisations else None), organisations


@bp.route("/piano", methods=["GET", "POST"])
@roles_required(Role.TREASURER, Role.STAFF)
def plan_page():
    organisation, organisations = _organisation()
    if organisation is None:
        abort(404)
    year = params.parse(request.args.get("year") or str(today_rome().year), params.YEAR, "year")
    current = plan.targets(organisation.id, year)
    data = {"year": year}
    for (dimension, key), cents in current.items():
        data[f"{dimension}_{key}"] = f"{cents // 100},{cents % 100:02d}"
    form = plan_form(request.form if request.method == "POST" else None, **data)
    if request.method == "POST" and form.validate_on_submit():
        wanted = {}
        for key in STRATEGY_LABELS:
            wanted[(PlanDimension.STRATEGY.value, key)] = (
                getattr(form, f"strategy_{key}").cents or 0
            )
        for key in CHANNEL_LABELS:
            wanted[(PlanDimension.CHANNEL.value, key)] = getattr(form, f"channel_{key}").cents or 0
        plan.save_targets(organisation.id, form.year.data, wanted)
        db.session.commit()
        flash(_("Plan saved."), "info")
        return redirect(url_for(".plan_page", organisation_id=organisation.id, year=form.year.data))
    progress = plan.year_progress(organisation, year)
    status = 422 if form.errors else 200
    return render_template(
        "payments/ledger/plan.html",
        form=form,
        organisation=organisation,
        organisations=organisations,
        year=year,
        progress=progress,
    ), status
