"""The staff screens for campaigns, pacts, labs and updates."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from campaigns import editing, lifecycle
from campaigns.forms import CampaignForm, LabForm, PactForm, UpdateForm
from campaigns.models import Campaign, Lab, Pact
from campaigns.progress import progress
from legami.access import roles_required
from legami.extensions import db
from legami.models import Role
from legami.money import format_amount
from legami.validation import Invalid, apply_to_form

bp = Blueprint("campaigns_staff", __name__, url_prefix="/staff")

# The service speaks cents; the form field holds euros.
FORM_FIELDS = {"goal_cents": "goal"}


def _render_form(template: str, form, status_ok: int = 200, **context):
    status = 422 if form.errors or form.form_errors else status_ok
    return render_template(template, form=form, **context), status


@bp.get("/campaigns")
@roles_required(Role.STAFF)
def campaigns():
    rows = db.session.scalars(select(Campaign).order_by(Campaign.created_at.desc())).all()
    return render_template("campaigns/staff/campaigns.html", campaigns=rows)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def new_campaign():
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            created = editing.save_campaign(None, form.service_data(), cover=form.cover.data)
        except Invalid as invalid:
            apply_to_form(form, invalid, FORM_FIELDS)
        else:
            flash(_("Campaign saved as a draft. Preview it, then publish."), "info")
            return redirect(url_for(".edit_campaign", campaign_id=created.id))
    return _render_form("campaigns/staff/campaign_form.html", form, campaign=None)


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit_campaign(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    data = editing.campaign_data(campaign)
    data["goal"] = format_amount(campaign.goal_cents)
    form = CampaignForm(data=data)
    if form.validate_on_submit():
        try:
            editing.save_campaign(campaign, form.service_data(), cover=form.cover.data)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, FORM_FIELDS)
        else:
            flash(_("Campaign saved."), "info")
            return redirect(url_for(".edit_campaign", campaign_id=campaign.id))
    return _render_form(
        "campaigns/staff/campaign_form.html",
        form,
        campaign=campaign,
        update_form=UpdateForm(),
        actions=_actions(campaign),
    )


def _actions(campaign: Campaign) -> list[str]:
    return [
        name
        for name, (source, _target) in lifecycle.TRANSITIONS.items()
        if campaign.status == source
    ]


@bp.get("/campaigns/<int:campaign_id>/preview")
@roles_required(Role.STAFF)
def preview_campaign(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    return render_template(
        "campaigns/campaign.html", campaign=campaign, progress=progress(campaign), preview=True
    )


@bp.post("/campaigns/<int:campaign_id>/<any(publish, close, archive):action>")
@roles_required(Role.STAFF)
def change_status(campaign_id: int, action: str):
    campaign = db.get_or_404(Campaign, campaign_id)
    try:
        lifecycle.change_status(campaign, action)
    except lifecycle.TransitionError as exc:
        flash(str(exc), "error")
    else:
        flash(
            {
                "publish": _("The campaign is live."),
                "close": _("The campaign is closed."),
                "archive": _("The campaign is archived."),
            }[action],
            "info",
        )
    return redirect(url_for(".edit_campaign", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/updates")
@roles_required(Role.STAFF)
def add_update(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    update_form = UpdateForm()
    if update_form.validate_on_submit():
        try:
            editing.add_update(campaign, update_form.data)
        except Invalid as invalid:
            apply_to_form(update_form, invalid)
        else:
            flash(_("Update published."), "info")
            return redirect(url_for(".edit_campaign", campaign_id=campaign.id))
    data = editing.campaign_data(campaign)
    data["goal"] = format_amount(campaign.goal_cents)
    return render_template(
        "campaigns/staff/campaign_form.html",
        form=CampaignForm(data=data),
        campaign=campaign,
        update_form=update_form,
        actions=_actions(campaign),
    ), 422


def _programme_list(model, kind: str):
    rows = db.session.scalars(select(model).order_by(model.title)).all()
    return render_template("campaigns/staff/programmes.html", rows=rows, kind=kind)


def _programme_form(form_cls, save, row, kind: str):
    form = form_cls(obj=row)
    if form.validate_on_submit():
        try:
            save(row, form.data, cover=form.cover.data)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Saved."), "info")
            return redirect(url_for(f".{kind}s"))
    return _render_form("campaigns/staff/programme_form.html", form, row=row, kind=kind)


@bp.get("/pacts")
@roles_required(Role.STAFF)
def pacts():
    return _programme_list(Pact, "pact")


@bp.route("/pacts/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def new_pact():
    return _programme_form(PactForm, editing.save_pact, None, "pact")


@bp.route("/pacts/<int:pact_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit_pact(pact_id: int):
    return _programme_form(PactForm, editing.save_pact, db.get_or_404(Pact, pact_id), "pact")


@bp.get("/labs")
@roles_required(Role.STAFF)
def labs():
    return _programme_list(Lab, "lab")


@bp.route("/labs/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def new_lab():
    return _programme_form(LabForm, editing.save_lab, None, "lab")


@bp.route("/labs/<int:lab_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit_lab(lab_id: int):
    return _programme_form(LabForm, editing.save_lab, db.get_or_404(Lab, lab_id), "lab")
