"""The retention review: donors with no activity for N years, listed for staff to forget.

Activity is a gift (the day it was received, or made when it never arrived), an interaction,
a consent event, or the record's own creation. Read-only reporting over payments.
"""

from datetime import date, datetime, time

from sqlalchemy import and_, func, or_, select

from donors.erasure import retention_start
from donors.models import ConsentEvent, Donor, Interaction
from legami.timeutil import ROME
from payments.models import Donation


def inactive_donors(today: date, years: int):
    """(Donor, last gift day) for live donors idle since `years` before `today`, oldest first."""
    start = retention_start(today, years)
    start_at = datetime.combine(start, time.min, tzinfo=ROME)
    recent_gift = (
        select(Donation.id)
        .where(
            Donation.donor_id == Donor.id,
            or_(
                Donation.received_on >= start,
                and_(Donation.received_on.is_(None), Donation.created_at >= start_at),
            ),
        )
        .exists()
    )
    recent_interaction = (
        select(Interaction.id)
        .where(Interaction.donor_id == Donor.id, Interaction.occurred_on >= start)
        .exists()
    )
    recent_consent = (
        select(ConsentEvent.id)
        .where(ConsentEvent.donor_id == Donor.id, ConsentEvent.occurred_at >= start_at)
        .exists()
    )
    last_gift = (
        select(func.max(Donation.received_on))
        .where(Donation.donor_id == Donor.id)
        .scalar_subquery()
        .label("last_gift_on")
    )
    return (
        select(Donor, last_gift)
        .where(
            Donor.erased_at.is_(None),
            Donor.created_at < start_at,
            ~recent_gift,
            ~recent_interaction,
            ~recent_consent,
        )
        .order_by(Donor.created_at, Donor.id)
    )
