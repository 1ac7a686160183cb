"""Staff pages for a newsletter's send: schedule it, follow its progress, pause, resume or
cancel it, and read its report. The rows change here; the scheduler process acts on them."""

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField

from legami.access import roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Role
from legami.timeutil import ROME
from legami.validation import Invalid, apply_to_form
from mailing import audience, scheduling
from mailing import report as reporting
from mailing.models import Newsletter, NewsletterStatus

bp = Blueprint("newsletter_sending", __name__, url_prefix="/staff/newsletters")

S = NewsletterStatus


class ScheduleForm(FlaskForm):
    when = RadioField(
        _l("When"),
        choices=choices([("now", _l("Send now")), ("at", _l("At a date and time"))]),
        default="now",
    )
    at = StringField(_l("Date and time (Italian time)"))


def _newsletter(newsletter_id: int) -> Newsletter:
    return db.get_or_404(Newsletter, newsletter_id)


def _page(template: str, newsletter: Newsletter, **context):
    return render_template(
        f"mailing/newsletters/{template}",
        newsletter=newsletter,
        status_label=scheduling.STATUS_LABELS[S(newsletter.status)],
        **context,
    )


@bp.route("/<int:newsletter_id>/schedule", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def schedule(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    form = ScheduleForm()
    if not form.is_submitted() and newsletter.scheduled_at is not None:
        form.when.data = "at"
        form.at.data = newsletter.scheduled_at.astimezone(ROME).strftime("%Y-%m-%dT%H:%M")
    if form.validate_on_submit():
        try:
            when = scheduling.parse_rome(form.at.data or "") if form.when.data == "at" else None
            scheduling.send_at(newsletter, when, current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            scheduling.poke()
            flash(_l("The newsletter is scheduled."), "success")
            return redirect(url_for(".progress", newsletter_id=newsletter.id))
    return _page(
        "schedule.html", newsletter, form=form, recipients=scheduling.recipients(newsletter)
    )


@bp.get("/<int:newsletter_id>/progress")
@roles_required(Role.STAFF)
def progress(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    return _page("progress.html", newsletter, progress=reporting.progress(newsletter))


@bp.get("/<int:newsletter_id>/status")
@roles_required(Role.STAFF)
def status(newsletter_id: int):
    """The progress as JSON, for the progress bar (static/js/newsletter-progress.js)."""
    return jsonify(reporting.progress(_newsletter(newsletter_id)).as_json())


@bp.get("/<int:newsletter_id>/report")
@roles_required(Role.STAFF)
def report(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    return _page(
        "report.html",
        newsletter,
        report=reporting.report(newsletter),
        reason_labels=audience.REASON_LABELS,
    )


_ACTIONS = {
    "pause": (scheduling.pause, _l("The newsletter is paused.")),
    "resume": (scheduling.resume, _l("The newsletter resumes: what was sent is skipped.")),
    "cancel": (scheduling.cancel, _l("The newsletter is cancelled.")),
}


def _act(newsletter_id: int, action: str):
    newsletter = _newsletter(newsletter_id)
    change, done = _ACTIONS[action]
    try:
        change(newsletter, current_user)
    except Invalid as invalid:
        db.session.rollback()
        for message in invalid.errors.values():
            flash(message, "error")
    else:
        db.session.commit()
        scheduling.poke()
        flash(done, "success")
    return redirect(url_for(".progress", newsletter_id=newsletter_id))


@bp.post("/<int:newsletter_id>/pause")
@roles_required(Role.STAFF)
def pause(newsletter_id: int):
    return _act(newsletter_id, "pause")


@bp.post("/<int:newsletter_id>/resume")
@roles_required(Role.STAFF)
def resume(newsletter_id: int):
    return _act(newsletter_id, "resume")


@bp.post("/<int:newsletter_id>/cancel")
@roles_required(Role.STAFF)
def cancel(newsletter_id: int):
    return _act(newsletter_id, "cancel")


@bp.post("/<int:newsletter_id>/send-now")
@roles_required(Role.STAFF)
def send_now(newsletter_id: int):
    """A late (or scheduled) newsletter goes out at once."""
    newsletter = _newsletter(newsletter_id)
    try:
        scheduling.send_at(newsletter, None, current_user)
    except Invalid as invalid:
        db.session.rollback()
        for message in invalid.errors.values():
            flash(message, "error")
    else:
        db.session.commit()
        scheduling.poke()
        flash(_l("The newsletter is being sent."), "success")
    return redirect(url_for(".progress", newsletter_id=newsletter_id))
