"""What a donation adds to its campaign's raised figure and to its donor's year: succeeded
gifts, net of refunds.

Every gift of a campaign (one of its slots) or of a donor's year updates the same row, which
stays locked until the transaction commits. A caller may defer the additions (`deferred`):
they are then summed per row and written together, in one fixed order (so two transactions
never wait for each other in a cycle), by `apply_deferred` just before it commits.
"""

from collections import defaultdict
from contextlib import contextmanager
from datetime import date

from campaigns import totals
from campaigns.models import TOTAL_SLOTS
from donors import year_totals
from legami.extensions import db
from payments.models import Donation, Status

_DEFERRED = "payments.totals.deferred"


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
    """Add (cents, gifts) to the campaign and to the donor's year, in the caller's transaction
    (deferred to `apply_deferred` inside `deferred`)."""
    pending = db.session.info.get(_DEFERRED)
    if pending is None:
        totals.add(campaign_id, donation_id, cents, gifts)
        if cents or gifts:
            year_totals.add(donor_id, received_on.year, cents, gifts)
        return
    for key in (
        ("campaign", campaign_id, donation_id % TOTAL_SLOTS),
        ("donor", donor_id, received_on.year),
    ):
        pending[key][0] += cents
        pending[key][1] += gifts


@contextmanager
def deferred():
    """Additions made inside wait for `apply_deferred`; leaving without it drops them (the
    caller rolled back)."""
    db.session.info[_DEFERRED] = defaultdict(lambda: [0, 0])
    try:
        yield
    finally:
        db.session.info.pop(_DEFERRED, None)


def apply_deferred() -> None:
    """Write the deferred additions: campaign slots, then donors' years, each in key order."""
    pending = db.session.info.get(_DEFERRED) or {}
    for (kind, owner, part), (cents, gifts) in sorted(pending.items()):
        if kind == "campaign":
            totals.add(owner, part, cents, gifts)
        elif cents or gifts:
            year_totals.add(owner, part, cents, gifts)
    pending.clear()


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
