"""Receipts by mail: attached to the thank-you, or in a mail of their own after it.

How the two delivery policies work (ReceiptSettings.delivery):

- "attach": the thank-you is queued at the webhook, but the receipt is issued by the
  scheduler a few seconds later and its PDF stored later still. So the thank-you renderer
  asks `thank_you_attachment`, which raises `queue.NotYet` (the queue tries again 30 s later,
  not counted as a failure) while the gift is still due for a receipt or its receipt's PDF
  is not stored yet. Once receipts has decided, the thank-you goes out with the PDF, or
  without one if the gift gets no receipt (annual policy, under the threshold). After
  ATTACH_WAIT the thank-you stops waiting and goes without: a broken renderer never holds
  a thank-you back for good.
- "after": receipts sends `receipt_issued` when a per-gift receipt is issued; the listener
  queues a "receipt" mail, whose renderer waits for the thank-you to go first and for the
  PDF to be stored.

An annual receipt covers no single gift: when one is issued its own "annual_receipt" mail,
unique per (kind, receipt), is queued whatever the policy (the thank-yous went long ago), and
waits for the PDF the annual run's workers store. Forgotten donors get none.

A reissue after a partial refund is mailed whatever the policy (the thank-you went long ago,
and the donor's receipt is now void): the gift's "receipt" job, unique per (kind, gift), is
queued again, and always sends the gift's current valid receipt. Staff re-sending a receipt
does the same, for annual receipts too, and so does a receipt issued on request for a gift
below the threshold (receipts.on_request). A full refund voids the receipt and mails nothing.
"""

from datetime import timedelta
from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from legami.extensions import db
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from mailing import queue
from mailing.models import MailJob
from payments.models import Donation
from receipts import issuing, pdf, signals
from receipts.models import Delivery, Kind, Receipt, ReceiptDue, ReceiptStatus

KIND = "receipt"
ANNUAL_KIND = "annual_receipt"
ATTACH_WAIT = timedelta(minutes=30)


def filename(receipt: Receipt) -> str:
    return f"ricevuta-{receipt.display_number.replace('/', '-')}.pdf"


def attach(message: EmailMessage, receipt: Receipt) -> None:
    """The receipt's stored original PDF as an attachment (downloads may be the COPIA copy)."""
    message.add_attachment(
        pdf.stored_bytes(receipt),
        maintype="application",
        subtype="pdf",
        filename=filename(receipt),
    )


def _ready(receipt: Receipt) -> bool:
    return receipt.pdf_path is not None


def thank_you_attachment(job: MailJob, donation: Donation) -> Receipt | None:
    """The receipt to attach to this thank-you, None for none; raises NotYet to wait."""
    if issuing.settings_for(donation.organisation_id).delivery != Delivery.ATTACH:
        return None
    waited_enough = now_utc() - job.created_at > ATTACH_WAIT
    receipt = issuing.current_receipt(donation.id)
    if receipt is not None and _ready(receipt):
        return receipt
    if waited_enough:
        return None
    if receipt is not None or db.session.get(ReceiptDue, donation.id) is not None:
        raise queue.NotYet()
    return None


def _thank_you_pending(donation_id: int) -> bool:
    return (
        db.session.scalar(
            select(MailJob.id).where(
                MailJob.kind == "thank_you",
                MailJob.donation_id == donation_id,
                MailJob.sent_at.is_(None),
                MailJob.attempts < queue.MAX_ATTEMPTS,
            )
        )
        is not None
    )


def receipt_message(job: MailJob) -> EmailMessage | None:
    """The gift's current receipt in a mail of its own; None if it has none any more."""
    receipt = issuing.current_receipt(job.donation_id)
    if receipt is None:
        return None
    if not _ready(receipt) or _thank_you_pending(job.donation_id):
        raise queue.NotYet()
    return _receipt_mail(
        receipt,
        _l("Your receipt %(number)s from %(org)s"),
        "mailing/receipt.txt",
    )


def _receipt_mail(receipt: Receipt, subject, template: str, **context) -> EmailMessage:
    """A receipt in a mail of its own, in the receipt's language, the PDF attached.
    `subject` is a lazy string taking the receipt's number, the organisation and `context`."""
    donor = receipt.donor
    org = receipt.organisation
    with force_locale(receipt.language):
        message = EmailMessage()
        message["To"] = donor.email
        message["Reply-To"] = org.email
        message["Subject"] = str(subject) % {
            "number": receipt.display_number,
            "org": org.name,
            **context,
        }
        message.set_content(
            render_template(template, receipt=receipt, donor=donor, org=org, **context)
        )
    attach(message, receipt)
    return message


def annual_receipt_message(job: MailJob) -> EmailMessage | None:
    """An annual receipt in a mail of its own; None once it is void or its donor forgotten."""
    receipt = db.session.get(Receipt, job.receipt_id)
    if receipt is None or receipt.status != ReceiptStatus.ISSUED or receipt.donor.is_erased:
        return None
    if not _ready(receipt):
        raise queue.NotYet()
    return _receipt_mail(
        receipt,
        _l("Your annual receipt %(number)s for %(year)s from %(org)s"),
        "mailing/annual_receipt.txt",
        year=receipt.snapshot["annual"]["year"],
    )


def _requeue_annual(receipt_id: int) -> None:
    """Queue the annual receipt's mail, or queue it again if it went out (staff re-send)."""
    db.session.execute(
        upsert_insert(MailJob.__table__)
        .values(kind=ANNUAL_KIND, receipt_id=receipt_id, not_before=now_utc(), created_at=now_utc())
        .on_conflict_do_update(
            index_elements=["kind", "receipt_id"],
            set_={"sent_at": None, "attempts": 0, "last_error": "", "not_before": now_utc()},
        )
    )


def _queue_receipt(receipt_id: int, always: bool) -> None:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.donor.is_erased:
        return
    if receipt.kind == Kind.ANNUAL:
        _requeue_annual(receipt.id)
        return
    settings = issuing.settings_for(receipt.organisation_id)
    if always or receipt.replaces_id is not None or settings.delivery == Delivery.AFTER:
        queue.requeue(KIND, receipt.donation_id)


def on_issued(app, receipt_id: int) -> None:
    _queue_receipt(receipt_id, always=False)


def on_send_requested(app, receipt_id: int) -> None:
    _queue_receipt(receipt_id, always=True)


def connect_signals(app) -> None:
    queue.RENDERERS[KIND] = receipt_message
    queue.RENDERERS[ANNUAL_KIND] = annual_receipt_message
    signals.receipt_issued.connect(on_issued, sender=app)
    signals.receipt_send_requested.connect(on_send_requested, sender=app)
