"""Mail to donors when payments says so: the thank-you, and the bank details for a transfer.

The thank-you has a plain-text part and an HTML part in the newsletters' branded layout (the
campaign's card with its cover and progress, what the gift funds, the donor area).

The receivers only queue the mail (in the payment's own transaction); the queue renders and
sends it, so a slow mail server never slows a webhook and a crash never loses a thank-you.
"""

from email.message import EmailMessage

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from legami.extensions import db
from mailing import compose, queue, receipt_mail
from mailing.models import MailJob
from payments import giving, signals
from payments.models import Donation


def _message(
    template: str, subject, donation: Donation, html_template: str | None = None, **context
) -> EmailMessage:
    donor = donation.donor
    language = donor.language or "it"
    with force_locale(language):
        message = EmailMessage()
        message["To"] = donor.email
        message["Subject"] = str(subject)
        org = donation.organisation
        message["Reply-To"] = org.email
        context = {"donation": donation, "donor": donor, "org": org, **context}
        message.set_content(render_template(template, **context))
        if html_template:
            message.add_alternative(
                render_template(
                    html_template,
                    subject=str(subject),
                    **_html_context(donation, language),
                    **context,
                ),
                subtype="html",
            )
    return message


def _html_context(donation: Donation, language: str) -> dict:
    base = current_app.config["BASE_URL"]
    org = donation.organisation
    campaign_html, _text = compose.render_block("campaign", donation.campaign, language)
    suffix = "?lang=en" if language == "en" else ""
    return {
        "language": language,
        "campaign_block": Markup(campaign_html),
        "logo_url": base + url_for("uploads.serve", name=org.logo) if org.logo else None,
        "portal_url": base + url_for("portal.index") + suffix,
        "pact_urls": {
            pact.id: base + url_for("campaigns.pact", slug=pact.slug) + suffix
            for pact in donation.campaign.pacts
        },
        "lab_urls": {
            lab.id: base + url_for("campaigns.lab", slug=lab.slug) + suffix
            for lab in donation.campaign.labs
        },
    }


def thank_you(job: MailJob) -> EmailMessage:
    """The thank-you, with the receipt attached under the attach policy (it may wait for the
    receipt: see mailing.receipt_mail)."""
    donation = db.session.get(Donation, job.donation_id)
    receipt = receipt_mail.thank_you_attachment(job, donation)
    cancel = giving.cancel_link(donation.recurring_gift) if donation.recurring_gift else None
    with force_locale(donation.donor.language or "it"):
        title = donation.campaign.local("title")
    subject = _l("Thank you for your gift to %(title)s", title=title)
    message = _message(
        "mailing/thank_you.txt",
        subject,
        donation,
        html_template="mailing/thank_you.html",
        cancel_link=cancel,
        receipt=receipt,
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
