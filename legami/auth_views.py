"""Staff login, logout, password reset and invitation acceptance."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from legami import accounts
from legami.extensions import db, limiter
from legami.forms import ForgotPasswordForm, LoginForm, SetPasswordForm

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("staff.dashboard")


def _login_account() -> str:
    """The per-account limit's key: the e-mail tried, whatever the client's address."""
    return "login:" + accounts.normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
@limiter.limit(
    "5/minute;20/hour",
    key_func=_login_account,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(_("Wrong e-mail or password."))
    return render_template("legami/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.log_out(current_user._get_current_object())
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5/hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(_("If the address belongs to a staff account, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("legami/forgot_password.html", form=form)


def _set_password(token: str, max_age: int, title: str):
    user = accounts.user_from_token(token, max_age)
    if user is None:
        flash(_("This link has expired or was already used. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        db.session.commit()
        login_user(user)
        flash(_("Your password is set."), "info")
        return redirect(url_for("staff.dashboard"))
    return render_template("legami/set_password.html", form=form, title=title, user=user)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _set_password(token, accounts.RESET_MAX_AGE, _("Choose a new password"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    return _set_password(token, accounts.INVITE_MAX_AGE, _("Welcome: choose your password"))
