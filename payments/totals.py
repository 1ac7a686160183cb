"""The campaign's raised figure and gift count: succeeded gifts, net of refunds.

Each change to a donation moves the totals by its difference in the same transaction, with
`SET raised_cents = raised_cents + :delta` in SQL: the row lock makes concurrent gifts add up
exactly, and the cost does not grow with the number of gifts. `recount` rebuilds them from
the donations (bulk loads, and checks).
"""

from sqlalchemy import update

from campaigns.models import Campaign
from legami.extensions import db
from payments.models import Donation, Status


def counted(donation: Donation) -> tuple[int, int]:
    """What this donation adds to its campaign: (cents, gifts)."""
    if donation.status == Status.SUCCEEDED:
        return donation.amount_cents - donation.refunded_cents, 1
    if donation.status == Status.REFUNDED:
        return donation.amount_cents - donation.refunded_cents, 0
    return 0, 0


def move(campaign_id: int, before: tuple[int, int], after: tuple[int, int]) -> None:
    cents, gifts = after[0] - before[0], after[1] - before[1]
    if cents or gifts:
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(
                raised_cents=Campaign.raised_cents + cents, gift_count=Campaign.gift_count + gifts
            )
        )
