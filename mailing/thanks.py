"""Mail to donors when payments says so: the thank-you, and the bank details for a transfer.

The receivers only queue the mail (in the payment's own transaction); the queue renders and
sends it, so a slow mail server never slows a webhook and a crash never loses a thank-you.
"""

from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from legami.extensions import db
from mailing import queue, receipt_mail
from mailing.models import MailJob
from payments import giving, signals
from payments.models import Donation


def _message(template: str, subject, donation: Donation, **context) -> EmailMessage:
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
    return message


def thank_you(job: MailJob) -> EmailMessage:
    """The thank-you, with the receipt attached under the attach policy (it may wait for the
    receipt: see mailing.receipt_mail)."""
    donation = db.session.get(Donation, job.donation_id)
    receipt = receipt_mail.thank_you_attachment(job, donation)
    cancel = giving.cancel_link(donation.recurring_gift) if donation.recurring_gift else None
    subject = _l("Thank you for your gift to %(title)s", title=donation.campaign.title)
    message = _message(
        "mailing/thank_you.txt", subject, donation, cancel_link=cancel, receipt=receipt
    )
    if receipt is not None:
        receipt_mail.attach(message, receipt)
    return message


def transfer_details(job: MailJob) -> EmailMessage | None:
    donation = db.session.get(Donation, job.donation_id)
    if donation.status != "pending":
        return None  # the money arrived before the mail went out
    subject = _l("How to complete your gift to %(title)s", title=donation.campaign.title)
    return _message("mailing/transfer_details.txt", subject, donation)


def on_succeeded(app, donation_id: int) -> None:
    queue.enqueue("thank_you", donation_id)


def on_pledged(app, donation_id: int) -> None:
    queue.enqueue("transfer_details", donation_id)


def connect_signals(app) -> None:
    queue.RENDERERS.update(thank_you=thank_you, transfer_details=transfer_details)
    signals.donation_succeeded.connect(on_succeeded, sender=app)
    signals.transfer_pledged.connect(on_pledged, sender=app)
