"""The staff donor list and donor record: search, details, giving, timeline, edits."""

from dataclasses import fields

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from donors import editing, giving_figures, listing, record_labels, timeline
from donors.forms import DonorForm, EmailForm, InteractionForm
from donors.models import Donor
from legami.access import add_menu, roles_required
from legami.extensions import db
from legami.models import Role
from legami.timeutil import today_rome
from legami.validation import Invalid, apply_to_form

bp = Blueprint("donors_staff", __name__, url_prefix="/staff/donors")

PAGE_SIZE = 50
READ = (Role.STAFF, Role.TREASURER)
RECORD_FIELDS = [f.name for f in fields(editing.Record)]
SORT_LABELS = {"name": _l("Name"), "last_gift": _l("Last gift"), "total": _l("Total given")}


@bp.get("")
@roles_required(*READ)
def donors():
    search = listing.Search.from_args(request.args)
    page = db.paginate(listing.query(search), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "donors/staff/list.html",
        page=page,
        search=search,
        sorts=SORT_LABELS,
        figures=giving_figures.summaries([d.id for d in page.items]),
        no_gifts=giving_figures.Summary(),
    )


def _record(donor: Donor, interaction: InteractionForm | None = None, status: int = 200):
    return render_template(
        "donors/staff/donor.html",
        donor=donor,
        figures=giving_figures.figures(donor.id),
        entries=timeline.timeline(donor),
        interaction=interaction or InteractionForm(prefix="interaction", occurred_on=today_rome()),
    ), status


@bp.get("/<int:donor_id>")
@roles_required(*READ)
def donor(donor_id: int):
    return _record(db.get_or_404(Donor, donor_id))


@bp.post("/<int:donor_id>/interactions")
@roles_required(Role.STAFF)
def add_interaction(donor_id: int):
    found = db.get_or_404(Donor, donor_id)
    form = InteractionForm(prefix="interaction")
    if form.validate_on_submit():
        try:
            editing.add_interaction(
                found, form.kind.data, form.occurred_on.data, form.summary.data, current_user
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Interaction recorded."), "info")
            return redirect(url_for(".donor", donor_id=found.id))
    return _record(found, interaction=form, status=422)


def _record_from(form: DonorForm) -> editing.Record:
    return editing.Record(**{name: form[name].data or "" for name in RECORD_FIELDS})


def _edit_page(form: DonorForm, donor: Donor | None, email_form=None, status: int = 200):
    return render_template(
        "donors/staff/edit.html",
        form=form,
        donor=donor,
        email_form=email_form or EmailForm(prefix="extra"),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def create():
    form = DonorForm()
    if form.validate_on_submit():
        try:
            made = editing.create(_record_from(form), current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Donor added."), "info")
            return redirect(url_for(".donor", donor_id=made.id))
    return _edit_page(form, None, status=422 if form.errors or form.form_errors else 200)


@bp.route("/<int:donor_id>/edit", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit(donor_id: int):
    found = db.get_or_404(Donor, donor_id)
    form = DonorForm(data=_form_data(found))
    if form.validate_on_submit():
        try:
            changed = editing.update(found, _record_from(form), current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            flash(_("Changes saved.") if changed else _("Nothing changed."), "info")
            return redirect(url_for(".donor", donor_id=found.id))
    return _edit_page(form, found, status=422 if form.errors or form.form_errors else 200)


def _form_data(donor: Donor) -> dict:
    data = {name: getattr(donor, name) or "" for name in RECORD_FIELDS if name != "tags"}
    return data | {"tags": ", ".join(t.name for t in donor.tags)}


@bp.post("/<int:donor_id>/emails")
@roles_required(Role.STAFF)
def add_email(donor_id: int):
    found = db.get_or_404(Donor, donor_id)
    email_form = EmailForm(prefix="extra")
    if email_form.validate_on_submit():
        try:
            editing.add_email(found, email_form.email.data, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(email_form, invalid)
        else:
            flash(_("E-mail address added."), "info")
            return redirect(url_for(".edit", donor_id=found.id))
    details = DonorForm(formdata=None, data=_form_data(found))
    return _edit_page(details, found, email_form, status=422)


@bp.post("/<int:donor_id>/emails/<int:email_id>/remove")
@roles_required(Role.STAFF)
def remove_email(donor_id: int, email_id: int):
    found = db.get_or_404(Donor, donor_id)
    try:
        editing.remove_email(found, email_id, current_user)
    except Invalid as invalid:
        db.session.rollback()
        flash(" ".join(str(m) for m in invalid.errors.values()), "error")
    else:
        flash(_("E-mail address removed."), "info")
    return redirect(url_for(".edit", donor_id=found.id))


def init_app(app) -> None:
    app.register_blueprint(bp)
    record_labels.init_app(app)
    add_menu(app, _l("Donors"), "donors_staff.donors", Role.STAFF, Role.TREASURER, group="donors")
