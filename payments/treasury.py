"""The treasurer's actions on gifts: confirm a transfer (and undo it when the bank reverses
it), correct a gift's date, refund, record an offline gift.

Every action is written to the audit log in the same transaction.
"""

from datetime import UTC, date, datetime, time

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from campaigns.models import Campaign
from donors.identity import DonorDetails, find_or_create
from legami import audit
from legami.extensions import db
from legami.i18n import money
from legami.models import User
from legami.money import MAX_GIFT_CENTS, AmountError, check_cents
from legami.timeutil import ROME, today_rome
from legami.validation import Invalid
from payments import signals, stripe_gateway, totals, transitions
from payments.labels import OFFLINE_METHODS
from payments.models import Donation, Method, Refund, RefundStatus, Status


def confirm_transfer(
    donation_id: int,
    received_on: date,
    user: User | None,
    source: str = "manual",
    currency: str | None = None,
) -> bool:
    """Mark a pending bank transfer as arrived (in `currency`, when the caller knows it: the
    gift's own, or nothing changes); False if it already was. The caller commits."""
    donation = transitions.lock(donation_id)
    if donation.method != Method.BANK_TRANSFER:
        raise Invalid({"received_on": _l("Only bank transfers are confirmed here.")})
    pending = transitions.mark_succeeded(donation.id, received_on=received_on, currency=currency)
    if pending:
        audit.record(
            user,
            "donation.confirm",
            f"donation:{donation.id}",
            source=source,
            received_on=received_on.isoformat(),
            amount_cents=donation.amount_cents,
        )
    transitions.send(pending)
    return bool(pending)


def documented(donation_id: int) -> bool:
    """Whether a document issued for the gift (a valid receipt) fixes its amount and date."""
    app = current_app._get_current_object()
    return any(answer for _, answer in signals.gift_documented.send(app, donation_id=donation_id))


def reverse_transfer(donation_id: int, reversed_on: date, user: User | None, source: str) -> str:
    """The bank took back the transfer that confirmed this gift. Returns what became of it:

    - "pending": nothing was issued for it yet (no valid receipt), so the confirmation is
      undone as if it never happened: pending again, out of the totals, out of its year, its
      receipt no longer due; a new payment confirms it again.
    - "refunded": a receipt was issued (or part was refunded already): the money that
      remained is refunded, with a dated Refund row, so receipts void the receipt and the tax
      data set reports the refund (payments.signals.donation_refunded).
    - the gift's status otherwise (already refunded, say): nothing to undo.
    Audited as donation.reverse. The caller commits.
    """
    fixed = documented(donation_id)  # first: it may lock the receipt's due mark
    donation = transitions.lock(donation_id)
    pending = []
    if donation.status != Status.SUCCEEDED:
        outcome = donation.status
    elif not fixed and not donation.refunded_cents:
        pending = transitions.mark_unconfirmed(donation)
        outcome = Status.PENDING.value
    else:
        db.session.add(
            Refund(
                donation=donation,
                amount_cents=donation.net_cents,
                reason=f"bank reversal ({source})"[:300],
                created_by_id=user.id if user else None,
                # Dated the day the bank booked the reversal (noon in Rome), not the import.
                created_at=datetime.combine(reversed_on, time(12), ROME).astimezone(UTC),
            )
        )
        pending = transitions.record_refunded_total(donation, donation.amount_cents)
        outcome = Status.REFUNDED.value
    audit.record(
        user,
        "donation.reverse",
        f"donation:{donation.id}",
        source=source,
        reversed_on=reversed_on.isoformat(),
        outcome=outcome,
        amount_cents=donation.amount_cents,
    )
    transitions.send(pending)
    return outcome


def correct_date(donation_id: int, received_on: date, user: User | None) -> Donation:
    """The treasurer corrects the day a gift was made, until a receipt is issued for it (the
    receipt states the day). The gift moves between its donor's years; audited as
    donation.date with the old and new day. The caller commits."""
    if documented(donation_id):
        raise Invalid(
            {
                "received_on": _l(
                    "A receipt was issued for this gift: its date can no longer change. Void "
                    "the receipt first if the date is wrong."
                )
            }
        )
    donation = transitions.lock(donation_id)
    if donation.received_on is None:
        raise Invalid({"received_on": _l("Only a received gift has a date to correct.")})
    if received_on > today_rome():
        raise Invalid({"received_on": _l("The date cannot be in the future.")})
    before = donation.received_on
    if received_on != before:
        cents, gifts = totals.counted(donation)
        if received_on.year != before.year and (cents or gifts):
            args = (donation.campaign_id, donation.id, donation.donor_id)
            totals.add(*args, before, -cents, -gifts)
            totals.add(*args, received_on, cents, gifts)
        donation.received_on = received_on
        audit.record(
            user,
            "donation.date",
            f"donation:{donation.id}",
            changes={"received_on": [before.isoformat(), received_on.isoformat()]},
        )
    return donation


def check_refund(donation: Donation, amount_cents: int) -> None:
    """Raise Invalid unless `amount_cents` can be refunded from the gift now."""
    refundable = donation.amount_cents - donation.refunded_cents
    if donation.status not in (Status.SUCCEEDED,):
        raise Invalid({"amount": _l("Only a received gift can be refunded.")})
    if amount_cents <= 0 or amount_cents > refundable:
        raise Invalid({"amount": _l("At most %(max)s can be refunded.", max=money(refundable))})


def refund(donation_id: int, amount_cents: int, reason: str, user: User | None) -> Refund:
    """Card gifts are refunded through Stripe (its webhook confirms); offline ones recorded."""
    donation = transitions.lock(donation_id)
    check_refund(donation, amount_cents)
    # A card refund is requested: pending until Stripe's events say how it went.
    row = Refund(
        donation=donation,
        amount_cents=amount_cents,
        status=RefundStatus.PENDING if donation.method == Method.CARD else RefundStatus.SUCCEEDED,
        reason=reason,
        created_by_id=user.id if user else None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        user,
        "donation.refund",
        f"donation:{donation.id}",
        amount_cents=amount_cents,
        reason=reason,
        method=donation.method,
    )
    pending = []
    if donation.method == Method.CARD:
        try:
            row.stripe_refund_id = stripe_gateway.refund(
                donation, amount_cents, key=f"legami-refund-{row.id}"
            )
        except stripe.StripeError as exc:
            db.session.rollback()
            raise Invalid(
                {"amount": _l("Stripe refused the refund: %(error)s", error=str(exc))}
            ) from exc
    else:
        pending = transitions.record_refunded_total(
            donation, donation.refunded_cents + amount_cents
        )
    transitions.send(pending)
    db.session.commit()
    return row


def record_offline(
    campaign: Campaign,
    method: str,
    amount_cents: int,
    received_on: date,
    donor: DonorDetails,
    user: User | None,
) -> Donation:
    """A gift staff received by any means but a card; whether it is deductible follows from
    the method (payments.methods)."""
    if method not in OFFLINE_METHODS:
        raise Invalid({"method": _l("Choose how the gift was made.")})
    try:
        check_cents(amount_cents, MAX_GIFT_CENTS)
    except AmountError as exc:
        raise Invalid({"amount": exc.message}) from exc
    person = find_or_create(donor, source=f"staff:{user.id if user else 'system'}")
    donation = Donation(
        campaign=campaign,
        organisation_id=campaign.organisation_id,
        donor=person,
        amount_cents=amount_cents,
        method=method,
    )
    db.session.add(donation)
    db.session.flush()
    pending = transitions.mark_succeeded(donation.id, received_on=received_on)
    audit.record(
        user,
        "donation.offline",
        f"donation:{donation.id}",
        method=method,
        amount_cents=amount_cents,
        received_on=received_on.isoformat(),
    )
    transitions.send(pending)
    db.session.commit()
    return donation
