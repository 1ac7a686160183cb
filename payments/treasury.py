"""The treasurer's actions on gifts: confirm a transfer, refund, record an offline gift.

Every action is written to the audit log in the same transaction.
"""

from datetime import date

import stripe
from flask_babel import lazy_gettext as _l

from campaigns.models import Campaign
from donors.identity import DonorDetails, find_or_create
from legami import audit
from legami.extensions import db
from legami.i18n import money
from legami.models import User
from legami.money import MAX_GIFT_CENTS, AmountError, check_cents
from legami.validation import Invalid
from payments import stripe_gateway, transitions
from payments.labels import OFFLINE_METHODS
from payments.models import Donation, Method, Refund, Status


def confirm_transfer(
    donation_id: int, received_on: date, user: User | None, source: str = "manual"
) -> bool:
    """Mark a pending bank transfer as arrived; False if it already was (nothing changes)."""
    donation = transitions.lock(donation_id)
    if donation.method != Method.BANK_TRANSFER:
        raise Invalid({"received_on": _l("Only bank transfers are confirmed here.")})
    pending = transitions.mark_succeeded(donation.id, received_on=received_on)
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
    db.session.commit()
    return bool(pending)


def refund(donation_id: int, amount_cents: int, reason: str, user: User | None) -> Refund:
    """Card gifts are refunded through Stripe (its webhook confirms); offline ones recorded."""
    donation = transitions.lock(donation_id)
    refundable = donation.amount_cents - donation.refunded_cents
    if donation.status not in (Status.SUCCEEDED,):
        raise Invalid({"amount": _l("Only a received gift can be refunded.")})
    if amount_cents <= 0 or amount_cents > refundable:
        raise Invalid({"amount": _l("At most %(max)s can be refunded.", max=money(refundable))})
    row = Refund(
        donation=donation,
        amount_cents=amount_cents,
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
