"""Issuing and voiding receipts, and what receipts do when payments signals a change.

The receivers run inside the payment's transaction (see payments.signals) and only write rows,
so a failure rolls the whole change back and the provider retries. A succeeded gift only
marks its receipt as due (one prebuilt insert on the webhook's path); `issue_due` issues the
due receipts in batches, each batch holding the yearly sequence row once. Refunds and disputes
act at once. PDFs are rendered later still, from the snapshot (receipts.pdf).
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, insert, select, update

from legami import audit
from legami.extensions import db
from legami.models import User
from legami.sql import upsert_insert
from legami.timeutil import ROME, now_utc
from legami.validation import Invalid
from payments import signals
from payments.models import Donation
from receipts import content, numbering
from receipts import signals as receipt_signals
from receipts.models import (
    Kind,
    Policy,
    Receipt,
    ReceiptDue,
    ReceiptGift,
    ReceiptSettings,
    ReceiptStatus,
)

FULL_REFUND = "rimborso"
PARTIAL_REFUND = "rimborso parziale"


def settings_for(organisation_id: int) -> ReceiptSettings:
    """The organisation's receipt settings; a row with the defaults is made when missing."""
    db.session.execute(
        upsert_insert(ReceiptSettings.__table__)
        .values(organisation_id=organisation_id)
        .on_conflict_do_nothing(index_elements=["organisation_id"])
    )
    return db.session.get(ReceiptSettings, organisation_id)


def current_receipt(donation_id: int) -> Receipt | None:
    """The gift's valid per-gift receipt, if it has one."""
    return db.session.scalar(
        select(Receipt).where(
            Receipt.donation_id == donation_id,
            Receipt.kind == Kind.SINGLE,
            Receipt.status == ReceiptStatus.ISSUED,
        )
    )


def _language(donation: Donation) -> str:
    return "en" if (donation.donor.language or "").startswith("en") else "it"


def _issue(donation: Donation, amount_cents: int, replaces: Receipt | None = None) -> Receipt:
    settings = settings_for(donation.organisation_id)
    issued_at = now_utc()
    year = issued_at.astimezone(ROME).year
    number = numbering.next_number(donation.organisation_id, year)
    receipt = Receipt(
        organisation_id=donation.organisation_id,
        year=year,
        number=number,
        display_number=numbering.display_number(settings.number_format, year, number),
        kind=Kind.SINGLE,
        donor_id=donation.donor_id,
        donation_id=donation.id,
        status=ReceiptStatus.ISSUED,
        replaces=replaces,
        disputed=donation.dispute_status == "open",
        amount_cents=amount_cents,
        currency=donation.currency,
        language=_language(donation),
        snapshot=content.snapshot(
            donation.organisation,
            settings,
            donation.donor,
            [content.gift(donation, amount_cents)],
            replaces=replaces,
        ),
        missing_tax_code=content.missing_tax_code(donation.donor),
        issued_at=issued_at,
        gifts=[ReceiptGift(donation_id=donation.id, amount_cents=amount_cents)],
    )
    db.session.add(receipt)
    db.session.flush()
    receipt_signals.receipt_issued.send(current_app._get_current_object(), receipt_id=receipt.id)
    return receipt


def issue_for_gift(donation_id: int, requested: bool = False) -> Receipt | None:
    """A per-gift receipt for a succeeded gift, if the organisation's policy gives one.

    Gifts below the threshold get one only when `requested` (the donor asked). Gifts without
    the donor's codice fiscale still get one, marked so the treasurer can see it. Returns the
    gift's receipt (an existing one if it has it already), or None.
    """
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.succeeded_at is None or donation.net_cents <= 0:
        return None
    existing = current_receipt(donation.id)
    if existing is not None:
        return existing
    settings = settings_for(donation.organisation_id)
    if settings.policy == Policy.ANNUAL:
        return None
    if donation.net_cents < settings.threshold_cents and not requested:
        return None
    return _issue(donation, donation.net_cents)


def void(receipt: Receipt, reason: str, user: User | None) -> Receipt:
    """Cancel a receipt: it keeps its number and its PDF; the reason is printed and audited."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": _l("Say why the receipt is voided.")})
    locked = db.session.scalar(
        select(Receipt)
        .where(Receipt.id == receipt.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked.status == ReceiptStatus.VOIDED:
        raise Invalid({"reason": _l("This receipt is already void.")})
    locked.status = ReceiptStatus.VOIDED
    locked.void_reason = reason[:300]
    locked.voided_at = now_utc()
    locked.voided_by_id = user.id if user else None
    audit.record(
        user,
        "receipt.void",
        f"receipt:{locked.id}",
        number=locked.display_number,
        organisation=locked.organisation_id,
        reason=locked.void_reason,
    )
    db.session.flush()
    return locked


def apply_refund(donation_id: int) -> Receipt | None:
    """After a refund: void the gift's receipt; if money remains, issue one for the rest.

    The new receipt has a new number and names the one it replaces. Repeats change nothing
    (the receipt already matches what remains). A refund that failed gives money back, even
    to a gift refunded in full: without a valid receipt it gets one, as a succeeded gift
    would. Returns the gift's valid receipt, or None.
    """
    donation = db.session.get(Donation, donation_id)
    receipt = current_receipt(donation_id)
    if receipt is None:
        return issue_for_gift(donation_id)
    if donation is None or receipt.amount_cents == donation.net_cents:
        return receipt
    remaining = donation.net_cents
    void(receipt, FULL_REFUND if remaining <= 0 else PARTIAL_REFUND, None)
    if remaining <= 0:
        return None
    return _issue(donation, remaining, replaces=receipt)


def flag_dispute(donation_id: int, dispute_status: str) -> None:
    """Mark the valid receipts covering a gift while its payment is disputed (or was lost)."""
    covering = select(ReceiptGift.receipt_id).where(ReceiptGift.donation_id == donation_id)
    db.session.execute(
        update(Receipt)
        .where(Receipt.id.in_(covering), Receipt.status == ReceiptStatus.ISSUED)
        .values(disputed=dispute_status != "won")
    )


_MARK_DUE = insert(ReceiptDue).values(donation_id=bindparam("b_donation"))


def issue_due(limit: int = 200) -> int:
    """Scheduler job: issue the receipts of gifts marked due, in one transaction; returns how
    many gifts it handled. Safe in several processes: a second one skips locked rows, and
    `issue_for_gift` returns an existing receipt rather than issuing twice."""
    ids = db.session.scalars(
        select(ReceiptDue.donation_id)
        .order_by(ReceiptDue.created_at, ReceiptDue.donation_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for donation_id in ids:
        issue_for_gift(donation_id)
    if ids:
        db.session.execute(delete(ReceiptDue).where(ReceiptDue.donation_id.in_(ids)))
    db.session.commit()
    return len(ids)


def _on_succeeded(app, donation_id: int) -> None:
    db.session.connection().execute(_MARK_DUE, {"b_donation": donation_id})


def _on_refunded(app, donation_id: int, refunded_cents: int) -> None:
    apply_refund(donation_id)


def _on_disputed(app, donation_id: int, dispute_status: str) -> None:
    flag_dispute(donation_id, dispute_status)


def _on_unconfirmed(app, donation_id: int) -> None:
    db.session.execute(delete(ReceiptDue).where(ReceiptDue.donation_id == donation_id))


def _documented(app, donation_id: int) -> bool:
    """Whether a valid receipt (per gift or annual) covers the gift. Its due mark is locked
    first: `issue_due` skips locked marks, so none is issued until the asker commits."""
    db.session.execute(
        select(ReceiptDue.donation_id)
        .where(ReceiptDue.donation_id == donation_id)
        .with_for_update()
    )
    return bool(
        db.session.scalar(
            select(ReceiptGift.receipt_id)
            .join(Receipt, Receipt.id == ReceiptGift.receipt_id)
            .where(
                ReceiptGift.donation_id == donation_id,
                Receipt.status == ReceiptStatus.ISSUED,
                Receipt.kind != Kind.SUMMARY,  # a summary is not a receipt
            )
            .limit(1)
        )
    )


def connect_signals(app) -> None:
    signals.donation_succeeded.connect(_on_succeeded, sender=app)
    signals.donation_refunded.connect(_on_refunded, sender=app)
    signals.donation_disputed.connect(_on_disputed, sender=app)
    signals.donation_unconfirmed.connect(_on_unconfirmed, sender=app)
    signals.gift_documented.connect(_documented, sender=app)
