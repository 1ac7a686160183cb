"""What a donation adds to its campaign's raised figure and to its donor's year: succeeded
gifts, net of refunds."""

from datetime import date

from campaigns import totals
from donors import year_totals
from payments.models import Donation, Status


def counted(donation: Donation) -> tuple[int, int]:
    """(cents, gifts) this donation adds to its campaign and to its donor's year.

    A refunded donation was refunded in full, so it adds nothing: the same gifts and net
    amounts as donors.giving_figures's GIFT and NET.
    """
    if donation.status == Status.SUCCEEDED:
        return donation.amount_cents - donation.refunded_cents, 1
    if donation.status == Status.REFUNDED:
        return donation.amount_cents - donation.refunded_cents, 0
    return 0, 0


def add(
    campaign_id: int, donation_id: int, donor_id: int, received_on: date, cents: int, gifts: int
) -> None:
    """Add (cents, gifts) to the campaign and to the donor's year, in the caller's transaction."""
    totals.add(campaign_id, donation_id, cents, gifts)
    if cents or gifts:
        year_totals.add(donor_id, received_on.year, cents, gifts)


def move(donation: Donation, before: tuple[int, int]) -> None:
    """Add the change since `before` (taken while the gift counted on its current day)."""
    after = counted(donation)
    add(
        donation.campaign_id,
        donation.id,
        donation.donor_id,
        donation.received_on,
        after[0] - before[0],
        after[1] - before[1],
    )
