"""Public consent pages: newsletter sign-up, the double opt-in link, unsubscribe (a page and
RFC 8058 one-click); and the staff's record of a consent heard from the donor."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from donors import consent
from donors.consent import Confirmation, StaffAction
from donors.identity import DonorDetails, normalise_email
from donors.models import Donor
from legami.access import roles_required
from legami.extensions import csrf, db, limiter
from legami.forms import choices
from legami.i18n import current_language
from legami.models import Role
from legami.validation import Invalid

bp = Blueprint("consent", __name__)

PER_IP = "5/hour;20/day"
PER_EMAIL = "5/hour;10/day"

STAFF_ACTIONS = {
    StaffAction.NEWSLETTER_GRANTED: _l("Newsletter: consent given"),
    StaffAction.NEWSLETTER_WITHDRAWN: _l("Newsletter: consent withdrawn"),
    StaffAction.NEWSLETTER_REQUESTED: _l("Newsletter: send a confirmation e-mail"),
    StaffAction.REPORT_BACK_OPTED_OUT: _l("Report-back mails: opted out"),
    StaffAction.REPORT_BACK_OPTED_IN: _l("Report-back mails: opted back in"),
}


class SignUpForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class StaffConsentForm(FlaskForm):
    action = SelectField(
        _l("Record"), choices=choices((a.value, label) for a, label in STAFF_ACTIONS.items())
    )
    note = StringField(
        _l("Note (how and when the donor said so)"), validators=[Optional(), Length(max=300)]
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        newsletter_state=consent.newsletter_state,
        staff_consent_actions=STAFF_ACTIONS,
    )


def email_key() -> str:
    return "newsletter-email:" + normalise_email(request.form.get("email", ""))


def too_many(limit) -> object:
    return render_template("donors/consent/too_many.html"), 429


def _ip() -> str:
    return request.remote_addr or ""


@bp.route("/newsletter", methods=["GET", "POST"])
@limiter.limit(PER_IP, methods=["POST"], on_breach=too_many)
@limiter.limit(PER_EMAIL, key_func=email_key, methods=["POST"], on_breach=too_many)
def sign_up():
    form = SignUpForm()
    if form.validate_on_submit():
        details = DonorDetails(
            email=form.email.data,
            first_name=form.first_name.data.strip(),
            last_name=form.last_name.data.strip(),
            language=current_language(),
        )
        consent.sign_up(details, _ip())
        db.session.commit()
        # The same answer for a new, a known or a subscribed address.
        return render_template("donors/consent/check_inbox.html")
    return render_template("donors/consent/sign_up.html", form=form), 422 if form.errors else 200


@bp.route("/newsletter/conferma/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The link of the confirmation mail: a page with one button (mail scanners that open
    links must not confirm for the person); the button confirms."""
    if request.method == "POST":
        status = consent.confirm(token, _ip())
        db.session.commit()
    else:
        status, _request = consent.check_confirmation(token)
    code = {Confirmation.EXPIRED: 410, Confirmation.INVALID: 404}.get(status, 200)
    return render_template("donors/consent/confirm.html", status=status, token=token), code


def _unsubscribe_subject(token: str):
    found = consent.from_unsubscribe_token(token)
    if found is None:
        abort(404)
    return found


@bp.route("/disiscrizione/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """A mail's unsubscribe link: one button; the page says so when it is done."""
    donor, purpose = _unsubscribe_subject(token)
    if request.method == "POST":
        consent.unsubscribe(donor, purpose, _ip())
        db.session.commit()
    return render_template(
        "donors/consent/unsubscribe.html",
        purpose=purpose,
        done=consent.is_unsubscribed(donor, purpose),
        token=token,
    )


@bp.route("/disiscrizione/<token>/one-click", methods=["GET", "POST"])
@csrf.exempt
def one_click(token: str):
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`; the signature in the
    address is the authentication, so no CSRF token. A person opening it gets the page."""
    if request.method == "GET":
        return redirect(url_for(".unsubscribe", token=token))
    donor, purpose = _unsubscribe_subject(token)
    if request.form.get("List-Unsubscribe") != "One-Click":
        return _("Expected List-Unsubscribe=One-Click."), 400, {"Content-Type": "text/plain"}
    consent.unsubscribe(donor, purpose, _ip())
    db.session.commit()
    return _("Unsubscribed."), 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/staff/donors/<int:donor_id>/consent")
@roles_required(Role.STAFF)
def staff_change(donor_id: int):
    donor = db.get_or_404(Donor, donor_id)
    form = StaffConsentForm()
    if form.validate_on_submit():
        try:
            consent.record_by_staff(donor, form.action.data, form.note.data or "", current_user)
        except Invalid as invalid:
            db.session.rollback()
            for message in invalid.errors.values():
                flash(str(message), "error")
        else:
            db.session.commit()
            flash(_("Recorded in the consent history."), "info")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("donors_staff.donor", donor_id=donor.id) + "#consent-title")
