"""The donor portal's own pages: ask for a link, enter by it, home, details, consents."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from donors import consent, portal
from donors.consent import NewsletterState
from donors.identity import normalise_email
from donors.models import ConsentSource
from legami.extensions import db, limiter
from legami.forms import choices
from legami.i18n import LANGUAGES
from legami.validation import Invalid, apply_to_form

bp = Blueprint("portal", __name__, url_prefix="/portal")

PER_IP = "5/hour;20/day"
PER_EMAIL = "5/hour;10/day"


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class LinkRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)], filters=[_strip]
    )


class DetailsForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    organisation_name = StringField(
        _l("Organisation name"), validators=[Optional(), Length(max=200)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    street = StringField(_l("Street and number"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    town = StringField(_l("Town"), validators=[Optional(), Length(max=100)])
    province = StringField(_l("Province"), validators=[Optional(), Length(max=2)])
    language = SelectField(_l("Language of our mail"), choices=choices(LANGUAGES.items()))


class ConsentsForm(FlaskForm):
    newsletter = BooleanField(_l("I want to receive the newsletter"))
    report_back = BooleanField(
        _l("Tell me by e-mail what the campaigns I supported achieved (report-back mails)")
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
    portal.add_portal_section(app, _l("Your details"), "portal.details")
    portal.add_portal_section(app, _l("Your consents"), "portal.consents")
    app.jinja_env.globals["portal_sections"] = lambda: portal.sections(app)


def email_key() -> str:
    return "portal-email:" + normalise_email(request.form.get("email", ""))


def too_many(limit) -> object:
    return render_template("donors/consent/too_many.html"), 429


@bp.route("", methods=["GET", "POST"])
@limiter.limit(PER_IP, methods=["POST"], on_breach=too_many)
@limiter.limit(PER_EMAIL, key_func=email_key, methods=["POST"], on_breach=too_many)
def index():
    if request.method == "GET" and portal.current_donor() is not None:
        return redirect(url_for(".home"))
    form = LinkRequestForm()
    if form.validate_on_submit():
        portal.request_link(form.email.data)
        db.session.commit()
        # The same page whether or not the address belongs to a donor.
        return render_template(
            "donors/portal/link_sent.html",
            minutes=current_app.config["PORTAL_LINK_MAX_AGE"] // 60,
        )
    status = 422 if form.errors else 200
    return render_template("donors/portal/request_link.html", form=form), status


@bp.route("/accedi/<token>", methods=["GET", "POST"])
def enter(token: str):
    """The mail's link shows one button (a mail scanner opening the link must not use it up);
    the button uses the link and opens the portal."""
    if request.method == "POST":
        donor = portal.redeem(token)
        db.session.commit()
        if donor is not None:
            portal.log_in(donor)
            return redirect(url_for(".home"))
    elif portal.link_is_valid(token):
        return render_template("donors/portal/enter.html", token=token)
    return render_template("donors/portal/link_invalid.html"), 410


@bp.get("/inizio")
@portal.portal_required
def home():
    return render_template("donors/portal/home.html", donor=portal.current_donor())


@bp.post("/esci")
def log_out():
    portal.log_out()
    flash(_("You left your donor area."), "info")
    return redirect(url_for(".index"))


@bp.route("/dati", methods=["GET", "POST"])
@portal.portal_required
def details():
    donor = portal.current_donor()
    form = DetailsForm(obj=donor)
    if form.validate_on_submit():
        try:
            changed = portal.edit_details(donor, form.data)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Your details are saved.") if changed else _("Nothing changed."), "info")
            return redirect(url_for(".details"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("donors/portal/details.html", donor=donor, form=form), status


@bp.route("/consensi", methods=["GET", "POST"])
@portal.portal_required
def consents():
    donor = portal.current_donor()
    state = consent.newsletter_state(donor)
    # A box left unticked is absent from the POST: the current state only fills the GET.
    current = {
        "newsletter": state in (NewsletterState.SUBSCRIBED, NewsletterState.AWAITING),
        "report_back": not donor.report_back_opt_out,
    }
    form = ConsentsForm(data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        ip = request.remote_addr or ""
        wanted = (NewsletterState.NOT_SUBSCRIBED, NewsletterState.UNSUBSCRIBED)
        if form.newsletter.data and state in wanted:
            consent.request_newsletter(donor, ConsentSource.PORTAL, ip)
            flash(_("We sent you an e-mail: follow its link to confirm the newsletter."), "info")
        elif not form.newsletter.data and state == NewsletterState.SUBSCRIBED:
            consent.withdraw(donor, ConsentSource.PORTAL, ip=ip)
            flash(_("You will no longer receive the newsletter."), "info")
        consent.set_report_back(donor, not form.report_back.data, ConsentSource.PORTAL, ip=ip)
        db.session.commit()
        return redirect(url_for(".consents"))
    return render_template(
        "donors/portal/consents.html",
        donor=donor,
        form=form,
        state=state,
    )
