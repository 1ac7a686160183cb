"""The treasurer's receipt settings: one page per organisation."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.money import format_amount
from legami.timeutil import today_rome
from legami.validation import Invalid, apply_to_form
from receipts import issuing, settings
from receipts.forms import SealForm, SettingsForm

bp = Blueprint("receipts_settings", __name__, url_prefix="/staff/receipts/settings")


@bp.get("")
@roles_required(Role.TREASURER)
def index():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    today = today_rome()
    rows = [
        (org, issuing.settings_for(org.id), settings.onlus_without_runts(org, today))
        for org in organisations
    ]
    db.session.commit()  # the default rows made for organisations that had none
    return render_template("receipts/staff/settings_index.html", rows=rows)


@bp.route("/<int:org_id>", methods=["GET", "POST"])
@roles_required(Role.TREASURER)
def edit(org_id: int):
    org = db.get_or_404(Organisation, org_id)
    current = issuing.settings_for(org.id)
    db.session.commit()  # the default row, for an organisation that had none
    form = SettingsForm(obj=current)
    if not form.is_submitted():
        form.threshold.data = format_amount(current.threshold_cents)
    if form.validate_on_submit():
        try:
            settings.save(
                current,
                form.data,
                current_user,
                signature=form.signature_image.data,
                remove_signature=form.remove_signature.data,
            )
        except Invalid as invalid:
            apply_to_form(form, invalid)
        else:
            flash(_("Receipt settings of %(name)s saved.", name=org.name), "info")
            return redirect(url_for(".index"))
    status = 422 if form.errors or form.form_errors else 200
    return _page(org, current, form, SealForm(obj=current), status)


def _page(org: Organisation, current, form, seal_form, status: int):
    return render_template(
        "receipts/staff/settings.html",
        form=form,
        seal_form=seal_form,
        org=org,
        settings=current,
        onlus_without_runts=settings.onlus_without_runts(org, today_rome()),
    ), status


@bp.post("/<int:org_id>/seal")
@roles_required(Role.TREASURER)
def seal(org_id: int):
    org = db.get_or_404(Organisation, org_id)
    current = issuing.settings_for(org.id)
    db.session.commit()
    form = SealForm()
    if form.validate_on_submit():
        try:
            settings.save_seal(current, form.data, current_user, upload=form.seal_file.data)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Seal settings of %(name)s saved.", name=org.name), "info")
            return redirect(url_for(".edit", org_id=org.id))
    settings_form = SettingsForm(obj=current)
    settings_form.threshold.data = format_amount(current.threshold_cents)
    return _page(org, current, settings_form, form, 422)
