"""Mail to donors when payments says so: the thank-you, and the bank details for a transfer."""

from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from mailing.transport import send
from payments import giving, signals


def _send(template: str, subject, donation, **context) -> None:
    donor = donation.donor
    with force_locale(donor.language or "it"):
        message = EmailMessage()
        message["To"] = donor.email
        message["Subject"] = str(subject)
        org = donation.organisation
        message["Reply-To"] = org.email
        message.set_content(
            render_template(template, donation=donation, donor=donor, org=org, **context)
        )
        send(message)


def on_succeeded(app, donation) -> None:
    cancel = giving.cancel_link(donation.recurring_gift) if donation.recurring_gift else None
    try:
        _send(
            "mailing/thank_you.txt",
            _l("Thank you for your gift to %(title)s", title=donation.campaign.title),
            donation,
            cancel_link=cancel,
        )
    except OSError:
        # The gift stands even if the mail server is down; the log says whom to thank by hand.
        current_app.logger.exception("thank-you mail for donation %s not sent", donation.id)


def on_pledged(app, donation) -> None:
    _send(
        "mailing/transfer_details.txt",
        _l("How to complete your gift to %(title)s", title=donation.campaign.title),
        donation,
    )


def connect_signals(app) -> None:
    signals.donation_succeeded.connect(on_succeeded, sender=app)
    signals.transfer_pledged.connect(on_pledged, sender=app)
