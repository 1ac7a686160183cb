"""Mail to a donor when donors asks for it: the portal link and the newsletter confirmation.

The receivers only queue a job (in the request's transaction). The renderer makes the link
when the mail goes out, so no token waits in the queue: a portal token is stored only as its
hash, and a confirmation link is signed, with its age counted from the sending.
"""

from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from donors import consent, portal, signals
from donors.models import Donor
from legami.extensions import db
from mailing import queue
from mailing.models import MailJob


def _message(template: str, subject, donor: Donor, **context) -> EmailMessage:
    with force_locale(donor.language or "it"):
        message = EmailMessage()
        message["To"] = donor.email
        message["Subject"] = str(subject)
        message.set_content(render_template(template, donor=donor, **context))
    return message


def _donor(job: MailJob) -> Donor | None:
    donor = db.session.get(Donor, job.donor_id)
    return None if donor is None or donor.is_erased else donor


def portal_link(job: MailJob) -> EmailMessage | None:
    donor = _donor(job)
    if donor is None:
        return None
    return _message(
        "mailing/portal_link.txt",
        _l("Your link to your donor area"),
        donor,
        url=portal.issue_link(donor),
        minutes=current_app.config["PORTAL_LINK_MAX_AGE"] // 60,
    )


def newsletter_confirm(job: MailJob) -> EmailMessage | None:
    donor = _donor(job)
    request = consent.pending_request(donor.id) if donor else None
    if request is None:
        return None  # confirmed, or consenting by another way, before the mail went out
    return _message(
        "mailing/newsletter_confirm.txt",
        _l("Confirm your newsletter subscription"),
        donor,
        url=consent.confirm_url(request),
        days=current_app.config["NEWSLETTER_CONFIRM_MAX_AGE"] // 86400,
    )


def on_portal_link(app, donor_id: int) -> None:
    queue.enqueue_for_donor("portal_link", donor_id)


def on_newsletter_requested(app, donor_id: int) -> None:
    queue.enqueue_for_donor("newsletter_confirm", donor_id)


def connect_signals(app) -> None:
    queue.RENDERERS.update(portal_link=portal_link, newsletter_confirm=newsletter_confirm)
    signals.portal_link_requested.connect(on_portal_link, sender=app)
    signals.newsletter_requested.connect(on_newsletter_requested, sender=app)
