"""The campaign's raised figure and gift count, recomputed from the donations.

Called inside the transaction that changed a donation: the campaign row is locked first, so
the aggregate that follows sees every committed gift and concurrent gifts cannot lose updates.
"""

from sqlalchemy import func, select, update

from campaigns.models import Campaign
from legami.extensions import db
from payments.models import Donation, Status

COUNTED = (Status.SUCCEEDED, Status.REFUNDED)


def refresh_campaign_totals(campaign_id: int) -> None:
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())
    raised, gifts = db.session.execute(
        select(
            func.coalesce(func.sum(Donation.amount_cents - Donation.refunded_cents), 0),
            func.count().filter(Donation.status == Status.SUCCEEDED),
        ).where(Donation.campaign_id == campaign_id, Donation.status.in_(COUNTED))
    ).one()
    db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(raised_cents=raised, gift_count=gifts)
    )
