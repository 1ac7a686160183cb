"""What a donation adds to its campaign's raised figure: succeeded gifts, net of refunds."""

from campaigns import totals
from payments.models import Donation, Status


def counted(donation: Donation) -> tuple[int, int]:
    """(cents, gifts) this donation adds to its campaign."""
    if donation.status == Status.SUCCEEDED:
        return donation.amount_cents - donation.refunded_cents, 1
    if donation.status == Status.REFUNDED:
        return donation.amount_cents - donation.refunded_cents, 0
    return 0, 0


def move(donation: Donation, before: tuple[int, int]) -> None:
    """Add the change since `before` to the campaign, in the donation's transaction."""
    after = counted(donation)
    totals.add(donation.campaign_id, donation.id, after[0] - before[0], after[1] - before[1])
