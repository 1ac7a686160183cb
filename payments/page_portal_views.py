"""The page owner's side, in the donor area: their pages, edits, and one thank-you."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from donors import portal
from legami.extensions import db
from legami.validation import Invalid, apply_to_form
from payments import fundraising_pages
from payments.page_forms import PageDetailsForm, ThanksForm
from payments.page_models import FundraisingPage

bp = Blueprint("payments_pages_portal", __name__, url_prefix="/portal/pagine")


def _own(slug: str) -> FundraisingPage:
    page = fundraising_pages.by_slug(slug)
    if page is None or page.owner_id != portal.current_donor().id:
        abort(404)
    return page


@bp.get("")
@portal.portal_required
def pages():
    owned = db.session.scalars(
        select(FundraisingPage)
        .where(FundraisingPage.owner_id == portal.current_donor().id)
        .order_by(FundraisingPage.created_at.desc())
    ).all()
    return render_template(
        "payments/pages/portal_list.html",
        pages=[(p, fundraising_pages.raised(p)[0]) for p in owned],
    )


def _render(page: FundraisingPage, form: PageDetailsForm, thanks: ThanksForm, status=200):
    return render_template(
        "payments/pages/portal_edit.html",
        page=page,
        form=form,
        thanks=thanks,
        raised_cents=fundraising_pages.raised(page)[0],
    ), status


@bp.route("/<slug>", methods=["GET", "POST"])
@portal.portal_required
def edit(slug: str):
    page = _own(slug)
    form = PageDetailsForm(obj=page)
    if not form.is_submitted():
        form.goal.data = f"{page.goal_cents / 100:.2f}".replace(".", ",")
    if form.validate_on_submit():
        try:
            fundraising_pages.edit(
                page,
                portal.current_donor(),
                {
                    "title": form.title.data,
                    "story": form.story.data,
                    "goal_cents": form.goal.cents,
                    "ends_on": form.ends_on.data,
                    "on_leaderboard": form.on_leaderboard.data,
                },
                photo=form.photo.data if isinstance(form.photo.data, FileStorage) else None,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, {"goal_cents": "goal"})
        else:
            db.session.commit()
            flash(_("Your page is saved."), "info")
            return redirect(url_for(".edit", slug=slug))
    status = 422 if form.errors or form.form_errors else 200
    return _render(page, form, ThanksForm(), status)


@bp.post("/<slug>/grazie")
@portal.portal_required
def thank(slug: str):
    page = _own(slug)
    form = ThanksForm()
    if form.validate_on_submit():
        try:
            fundraising_pages.relay_thanks(page, portal.current_donor(), form.message.data)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Your thank-you is on its way to your donors."), "info")
            return redirect(url_for(".edit", slug=slug))
    return _render(page, PageDetailsForm(obj=page), form, 422)
