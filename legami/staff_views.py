"""The shell's back office: the staff home, users and organisations."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from legami import accounts
from legami.access import home_for, roles_required
from legami.extensions import db
from legami.forms import InviteForm, OrganisationForm, RolesForm
from legami.models import Organisation, Role, User
from legami.organisations import save_organisation
from legami.validation import Invalid, apply_to_form

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@roles_required(Role.STAFF, Role.TREASURER)
def dashboard():
    """The staff home: each package's to-dos and figures for the user's roles."""
    return render_template("legami/dashboard.html", panels=home_for(current_app, current_user))


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("legami/users.html", users=rows, invite=InviteForm())


@bp.post("/users/invite")
@roles_required(Role.ADMIN)
def invite_user():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            accounts.invite_user(form.email.data, form.roles.data, name=form.name.data or "")
        except accounts.AccountError:
            form.email.errors.append(_("A user with this e-mail already exists."))
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "info")
            return redirect(url_for("staff.users"))
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("legami/users.html", users=rows, invite=form), 422


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RolesForm(data={"roles": sorted(user.role_names)})
    if form.validate_on_submit():
        if user.id == current_user.id and Role.ADMIN.value not in form.roles.data:
            form.roles.errors.append(_("You cannot remove your own administrator role."))
        else:
            user.set_roles(form.roles.data)
            db.session.commit()
            flash(_("Roles saved."), "info")
            return redirect(url_for("staff.users"))
    return render_template("legami/user.html", user=user, form=form), 422 if form.errors else 200


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def toggle_user(user_id: int):
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        abort(400)
    accounts.set_active(user, not user.active)
    message = _("%(email)s can log in again.") if user.active else _("%(email)s is deactivated.")
    flash(message % {"email": user.email}, "info")
    return redirect(url_for("staff.users"))


@bp.get("/organisations")
@roles_required(Role.ADMIN, Role.TREASURER)
def organisations():
    rows = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("legami/organisations.html", organisations=rows)


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_organisation():
    return _organisation_form(None)


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_organisation(org_id: int):
    return _organisation_form(db.get_or_404(Organisation, org_id))


def _organisation_form(org: Organisation | None):
    form = OrganisationForm(obj=org)
    if form.validate_on_submit():
        try:
            save_organisation(org, form.data, logo=form.logo.data)
        except Invalid as invalid:
            apply_to_form(form, invalid)
        else:
            flash(_("Organisation saved."), "info")
            return redirect(url_for("staff.organisations"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("legami/organisation_form.html", form=form, org=org), status
