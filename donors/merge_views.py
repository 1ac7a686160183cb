"""Duplicate candidates and the side-by-side merge screen."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import RadioField

from donors import dedupe, merge, record_labels
from donors.identity import normalise_email
from donors.models import Donor, DonorEmail
from legami import params
from legami.access import add_menu, roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Role
from legami.validation import Invalid, apply_to_form

bp = Blueprint("donor_merge", __name__, url_prefix="/staff/donors")


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_menu(app, _l("Duplicates"), "donor_merge.duplicates", Role.STAFF, group="donors")


PAGE_SIZE = 50

# The record's own labels, and the two fields it shows otherwise.
FIELD_LABELS = {
    **record_labels.FIELD_LABELS,
    "source": _l("Source"),
    "source_detail": _l("Source detail"),
}
VALUE_LABELS = {"kind": record_labels.KIND, "source": record_labels.SOURCE}

REASON_LABELS = {
    dedupe.Reason.EMAIL: _l("same e-mail"),
    dedupe.Reason.CODICE_FISCALE: _l("same codice fiscale"),
    dedupe.Reason.NAME_POSTAL_CODE: _l("same name and postal code"),
    dedupe.Reason.SWAPPED_NAME: _l("same name, first and last swapped"),
    dedupe.Reason.MAILBOX: _l("same mailbox (Gmail dots, +tag, googlemail.com)"),
    dedupe.Reason.PHONE: _l("same phone number"),
    dedupe.Reason.NAME_TOWN: _l("same name and town, a postal code missing"),
}

TABLE_LABELS = {
    "donations": _l("Gifts"),
    "recurring_gifts": _l("Monthly gifts"),
    "donor_emails": _l("Further e-mails"),
    "donor_tags": _l("Tags"),
    "donor_changes": _l("Field changes"),
    "interactions": _l("Interactions"),
    "consent_events": _l("Consent events"),
    "donor_merges": _l("Earlier merges"),
    "portal_tokens": _l("Portal links"),
    "import_rows": _l("Import rows"),
    "mail_jobs": _l("Mails"),
    "receipts": _l("Receipts"),
    "donor_suggestions": _l("Suggested changes"),
    "newsletter_deliveries": _l("Newsletters received"),
    "fundraising_pages": _l("Fundraising pages"),
    "matching_challenges": _l("Matching challenges"),
    "donor_year_totals": _l("Yearly totals"),
}


def _merge_form(a: Donor, b: Donor, differing: list[str]) -> FlaskForm:
    """A radio per differing field (whose value survives) and one for the surviving record."""

    class MergeForm(FlaskForm):
        survivor = RadioField(
            _l("Keep the record of"),
            choices=choices([(a.id, f"#{a.id}"), (b.id, f"#{b.id}")]),
            coerce=int,
            default=a.id,
        )

    for name in differing:
        first, second = _shown(name, getattr(a, name)), _shown(name, getattr(b, name))
        field = RadioField(
            FIELD_LABELS[name],
            choices=choices([(a.id, first or "—"), (b.id, second or "—")]),
            coerce=int,
            default=a.id if first or not second else b.id,
        )
        setattr(MergeForm, name, field)
    return MergeForm()


def _shown(name: str, value) -> str:
    return str(VALUE_LABELS.get(name, {}).get(value, value or ""))


def _live_or_404(donor_id: int) -> Donor:
    donor = db.get_or_404(Donor, donor_id)
    if donor.is_erased:
        abort(404)
    return donor


@bp.get("/duplicates")
@roles_required(Role.STAFF)
def duplicates():
    return render_template(
        "donors/staff/duplicates.html",
        page=dedupe.candidates_page(PAGE_SIZE),
        reason_labels=REASON_LABELS,
    )


@bp.get("/<int:donor_id>/merge-with")
@roles_required(Role.STAFF)
def merge_with(donor_id: int):
    """Pick the other record: from this donor's candidates, or by number or e-mail."""
    donor = _live_or_404(donor_id)
    other_text = request.args.get("other", "").strip()
    if other_text:
        other = _find(other_text)
        if other is not None and other.id != donor.id and not other.is_erased:
            return redirect(url_for(".merge_pair", a=donor.id, b=other.id))
        flash(_("No other donor has that number or e-mail."), "error")
    return render_template(
        "donors/staff/merge_with.html",
        donor=donor,
        candidates=dedupe.candidates_for(donor.id),
        reason_labels=REASON_LABELS,
        other=other_text,
    )


def _find(text: str) -> Donor | None:
    number = text.lstrip("#")
    if number.isdigit():
        try:
            return db.session.get(Donor, params.parse(number, params.ID, "other"))
        except params.BadParameter:
            return None
    email = normalise_email(text)
    return db.session.scalar(
        select(Donor).where(
            or_(
                Donor.email == email,
                Donor.id.in_(select(DonorEmail.donor_id).where(DonorEmail.email == email)),
            )
        )
    )


@bp.route("/merge/<int:a>/<int:b>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def merge_pair(a: int, b: int):
    first, second = _live_or_404(a), _live_or_404(b)
    if first.id == second.id:
        abort(404)
    differing = merge.differing_fields(first, second)
    form = _merge_form(first, second, differing)
    if form.validate_on_submit():
        survivor_id = form.survivor.data
        merged_id = second.id if survivor_id == first.id else first.id
        try:
            merge.merge(
                survivor_id, merged_id, {name: form[name].data for name in differing}, current_user
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            message = _("Donor #%(merged)s merged into #%(survivor)s.")
            flash(message % {"merged": merged_id, "survivor": survivor_id}, "info")
            return redirect(url_for("donors_staff.donor", donor_id=survivor_id))
    status = 422 if form.errors else 200
    return render_template(
        "donors/staff/merge.html",
        first=first,
        second=second,
        form=form,
        fields=[form[name] for name in differing],
        same=[
            (FIELD_LABELS[f], _shown(f, getattr(first, f)))
            for f in merge.FIELDS
            if f not in differing and getattr(first, f)
        ],
        counts=[merge.reference_counts(first.id), merge.reference_counts(second.id)],
        table_labels=TABLE_LABELS,
    ), status
