"""The newsletter settings of each organisation (sender, engagement tracking), for staff."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.validation import Invalid, apply_to_form
from mailing import mail_settings, newsletters
from mailing.models import MailSettings
from mailing.newsletter_forms import MailSettingsForm

bp = Blueprint("newsletter_settings", __name__, url_prefix="/staff/newsletters/settings")


@bp.get("")
@roles_required(Role.STAFF)
def index():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    db.session.scalars(select(MailSettings)).all()  # one query; the lookups below find them
    rows = [
        (org, newsletters.sender_defaults(org), db.session.get(MailSettings, org.id))
        for org in organisations
    ]
    return render_template("mailing/newsletters/settings_index.html", rows=rows)


@bp.route("/<int:organisation_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    form = MailSettingsForm(obj=db.session.get(MailSettings, org.id))
    if form.validate_on_submit():
        try:
            mail_settings.update(org.id, form.data, current_user)
        except Invalid as invalid:
            apply_to_form(form, invalid)
        else:
            flash(_("Newsletter settings of %(name)s saved.", name=org.name), "info")
            return redirect(url_for(".index"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("mailing/newsletters/settings.html", form=form, org=org), status
