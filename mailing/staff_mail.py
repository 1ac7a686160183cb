"""Mail to staff: invitations and password resets, sent when the shell signals them."""

from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from legami import signals
from mailing.transport import send


def _send_link(template: str, subject: str, user, url: str) -> None:
    with force_locale(user.language):
        message = EmailMessage()
        message["To"] = user.email
        message["Subject"] = str(subject)
        message.set_content(render_template(template, user=user, url=url))
        send(message)


def on_invited(app, user, url: str) -> None:
    _send_link("mailing/invitation.txt", _l("Your Legami staff account"), user, url)


def on_password_reset(app, user, url: str) -> None:
    _send_link("mailing/password_reset.txt", _l("Reset your Legami password"), user, url)


def connect_signals(app) -> None:
    signals.user_invited.connect(on_invited, sender=app)
    signals.password_reset_requested.connect(on_password_reset, sender=app)
