"""The composer's staff pages: the list, a draft's form (Italian and English), its page with
the recipient count and the way on (schedule, progress, report), the preview as HTML at
desktop and mobile width and as text, a test send, and a draft from a campaign update."""

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from campaigns.models import Update
from donors.models import Segment
from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.security import CSP
from legami.validation import Invalid, apply_to_form
from mailing import audience, compose, newsletters
from mailing.models import Newsletter
from mailing.newsletter_forms import ERROR_FIELDS, NewsletterForm, TestSendForm
from mailing.scheduling import STATUS_LABELS

bp = Blueprint("newsletters", __name__, url_prefix="/staff/newsletters")

PAGE_CSP = CSP.replace("frame-src ", "frame-src 'self' ")
# The previewed mail: its inline styles and nothing that runs, inside our own page only.
MAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https: http:; "
    "frame-ancestors 'self'; sandbox"
)
SENDING_PAGES = ("schedule", "progress", "report")


def _newsletter(newsletter_id: int) -> Newsletter:
    return db.get_or_404(Newsletter, newsletter_id)


def _language(newsletter: Newsletter) -> str:
    wanted = request.args.get("lang", "it")
    return wanted if wanted in {v.language for v in newsletter.versions} else "it"


def _recipients_text(count: int) -> str:
    return ngettext("%(num)s recipient", "%(num)s recipients", count)


@bp.get("")
@roles_required(Role.STAFF)
def index():
    rows = db.session.scalars(select(Newsletter).order_by(Newsletter.created_at.desc())).all()
    return render_template(
        "mailing/newsletters/list.html", newsletters=rows, status_labels=STATUS_LABELS
    )


def _sending_links(newsletter: Newsletter) -> dict[str, str]:
    """The schedule, progress and report pages, where that part of the app is installed."""
    return {
        page: url_for(f"newsletter_sending.{page}", newsletter_id=newsletter.id)
        for page in SENDING_PAGES
        if f"newsletter_sending.{page}" in current_app.view_functions
    }


@bp.get("/<int:newsletter_id>")
@roles_required(Role.STAFF)
def detail(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    return render_template(
        "mailing/newsletters/detail.html",
        newsletter=newsletter,
        status_labels=STATUS_LABELS,
        editable=newsletters.is_editable(newsletter),
        recipients=audience.count(newsletter),
        sending_links=_sending_links(newsletter),
        test_form=TestSendForm(to_email=current_user.email),
    )


def _render_form(form: NewsletterForm, newsletter: Newsletter | None):
    status = 422 if form.errors or form.form_errors else 200
    page = render_template(
        "mailing/newsletters/edit.html",
        form=form,
        newsletter=newsletter,
        recipients=audience.count(newsletter) if newsletter else None,
        blocks=compose.block_choices(),
    )
    return page, status, {"Content-Security-Policy": PAGE_CSP}


@bp.post("/preview-draft")
@roles_required(Role.STAFF)
def preview_draft():
    """The composer's live preview: the draft as the form stands, rendered, never stored."""
    form = NewsletterForm()
    language = request.form.get("preview_language", "it")
    if not form.validate_on_submit() or language not in ("it", "en"):
        return _("The preview could not be made: reload the page."), 400
    first_name = (current_user.name or "").split(" ")[0]
    page = compose.draft_preview(form.draft_data(), language, first_name, current_user.email)
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": MAIL_CSP,
        "X-Frame-Options": "SAMEORIGIN",
    }
    return page, 200, headers


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def new():
    form = NewsletterForm()
    if request.method == "GET":
        organisation = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
        if organisation is not None:
            form.organisation_id.data = organisation.id
            for name, value in newsletters.sender_defaults(organisation).items():
                getattr(form, name).data = value
    elif form.validate_on_submit():
        try:
            created = newsletters.create(form.draft_data(), current_user)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, ERROR_FIELDS)
        else:
            flash(_("Newsletter saved as a draft."), "info")
            return redirect(url_for(".detail", newsletter_id=created.id))
    return _render_form(form, None)


@bp.route("/<int:newsletter_id>/edit", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    if not newsletters.is_editable(newsletter):
        flash(_("Sending has started: this newsletter can no longer change."), "error")
        return redirect(url_for(".detail", newsletter_id=newsletter.id))
    form = NewsletterForm(data=NewsletterForm.initial(newsletters.draft_data(newsletter)))
    if form.validate_on_submit():
        try:
            newsletters.update_draft(newsletter, form.draft_data())
        except Invalid as invalid:
            apply_to_form(form, invalid, ERROR_FIELDS)
        else:
            flash(_("Newsletter saved."), "info")
            return redirect(url_for(".detail", newsletter_id=newsletter.id))
    return _render_form(form, newsletter)


@bp.post("/count")
@roles_required(Role.STAFF)
def count():
    """The live recipient count while choosing segments (the form posts as it stands)."""
    ids = [int(value) for value in request.form.getlist("segments") if value.isdigit()]
    chosen = db.session.scalars(select(Segment).where(Segment.id.in_(ids))).all() if ids else []
    number = audience.count(Newsletter(segments=list(chosen)))
    return jsonify(count=number, text=_recipients_text(number))


@bp.get("/<int:newsletter_id>/preview")
@roles_required(Role.STAFF)
def preview(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    language = _language(newsletter)
    message = _sample(newsletter, language)
    page = render_template(
        "mailing/newsletters/preview.html",
        newsletter=newsletter,
        language=language,
        subject=message["Subject"],
        text=message.get_body(("plain",)).get_content(),
    )
    return page, 200, {"Content-Security-Policy": PAGE_CSP}


@bp.get("/<int:newsletter_id>/preview/mail.html")
@roles_required(Role.STAFF)
def preview_html(newsletter_id: int):
    """The HTML part alone, for the preview's frames."""
    newsletter = _newsletter(newsletter_id)
    message = _sample(newsletter, _language(newsletter))
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": MAIL_CSP,
        "X-Frame-Options": "SAMEORIGIN",
    }
    return message.get_body(("html",)).get_content(), 200, headers


def _sample(newsletter: Newsletter, language: str):
    """The mail as a donor with the staff member's first name would get it."""
    first_name = (current_user.name or "").split(" ")[0]
    return compose.prepare(newsletter).message(
        newsletters.TestRecipient(0, None, current_user.email, first_name, language)
    )


@bp.post("/<int:newsletter_id>/test")
@roles_required(Role.STAFF)
def send_test(newsletter_id: int):
    newsletter = _newsletter(newsletter_id)
    form = TestSendForm()
    try:
        if not form.validate_on_submit():
            raise Invalid({"language": _("Choose a version.")})
        newsletters.send_test(newsletter, form.to_email.data, current_user, form.language.data)
    except Invalid as invalid:
        for message in invalid.errors.values():
            flash(str(message), "error")
    else:
        flash(_("Test sent to %(address)s.", address=form.to_email.data), "info")
    return redirect(url_for(".detail", newsletter_id=newsletter.id))


@bp.post("/from-update/<int:update_id>")
@roles_required(Role.STAFF)
def from_update(update_id: int):
    campaign_update = db.get_or_404(Update, update_id)
    try:
        created = newsletters.from_campaign_update(campaign_update, current_user)
    except Invalid as invalid:
        db.session.rollback()
        for message in invalid.errors.values():
            flash(str(message), "error")
        return redirect(
            url_for("campaigns_staff.edit_campaign", campaign_id=campaign_update.campaign_id)
        )
    flash(_("A newsletter draft was made from the update: check it, then schedule it."), "info")
    return redirect(url_for(".edit", newsletter_id=created.id))
