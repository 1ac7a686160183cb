"""What a donor has given, computed in SQL: per year, lifetime, and for a page of the list.

A gift counts when its donation succeeded; its value is what was kept, the amount less any
refund. A fully refunded donation changes state and no longer counts. Gifts are dated by the
day they were received (Europe/Rome).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Insert, Integer, case, cast, delete, extract, func, insert, select

from donors.models import DonorYearTotal
from legami.extensions import db
from payments.models import Donation, RecurringGift, RecurringStatus, Status

NET = Donation.amount_cents - Donation.refunded_cents
GIFT = Donation.status == Status.SUCCEEDED
YEAR = cast(extract("year", Donation.received_on), Integer)


@dataclass(frozen=True)
class Year:
    year: int
    total_cents: int
    count: int


@dataclass(frozen=True)
class Summary:
    """The list's columns for one donor."""

    total_cents: int = 0
    count: int = 0
    last_gift_on: date | None = None


@dataclass(frozen=True)
class Figures:
    years: list[Year]  # newest first
    first_gift_on: date | None
    last_gift_on: date | None
    largest_cents: int
    # The monthly gifts now running, and the state of the donor's monthly giving:
    # active, past_due, cancelled or None (never had one).
    monthly_cents: int
    recurring_status: str | None

    @property
    def total_cents(self) -> int:
        return sum(y.total_cents for y in self.years)

    @property
    def count(self) -> int:
        return sum(y.count for y in self.years)

    @property
    def average_cents(self) -> int:
        """The mean gift, rounded half up to the cent."""
        return (2 * self.total_cents + self.count) // (2 * self.count) if self.count else 0


def summary_columns():
    """Total, count and last gift of the donations in the FROM clause, grouped by donor."""
    return (
        func.coalesce(func.sum(NET), 0).label("total_cents"),
        func.count(Donation.id).label("gift_count"),
        func.max(Donation.received_on).label("last_gift_on"),
    )


def insert_year_totals(*where) -> Insert:
    """INSERT of DonorYearTotal rows computed from the gifts meeting `where`, one per donor
    and year."""
    per_year = (
        select(Donation.donor_id, YEAR, func.count(), func.sum(NET))
        .where(GIFT, *where)
        .group_by(Donation.donor_id, YEAR)
    )
    return insert(DonorYearTotal).from_select(("donor_id", "year", "gifts", "net_cents"), per_year)


def rebuild_for(donor_id: int) -> None:
    """Recompute one donor's rows from their donations (after gifts moved to them)."""
    db.session.execute(delete(DonorYearTotal).where(DonorYearTotal.donor_id == donor_id))
    db.session.execute(insert_year_totals(Donation.donor_id == donor_id))


def summaries(donor_ids: list[int]) -> dict[int, Summary]:
    """The list's figures for these donors only (one grouped query); no gift -> no entry."""
    if not donor_ids:
        return {}
    rows = db.session.execute(
        select(Donation.donor_id, *summary_columns())
        .where(GIFT, Donation.donor_id.in_(donor_ids))
        .group_by(Donation.donor_id)
    )
    return {
        row.donor_id: Summary(row.total_cents, row.gift_count, row.last_gift_on) for row in rows
    }


def figures(donor_id: int) -> Figures:
    """One donor's giving: one query grouped by year, one over their monthly gifts."""
    year = extract("year", Donation.received_on)
    years = db.session.execute(
        select(
            year.label("year"),
            func.sum(NET).label("total_cents"),
            func.count(Donation.id).label("gift_count"),
            func.min(Donation.received_on).label("first_on"),
            func.max(Donation.received_on).label("last_on"),
            func.max(NET).label("largest_cents"),
        )
        .where(GIFT, Donation.donor_id == donor_id)
        .group_by(year)
        .order_by(year.desc())
    ).all()
    active = RecurringGift.status == RecurringStatus.ACTIVE
    monthly = db.session.execute(
        select(
            func.sum(case((active, RecurringGift.amount_cents), else_=0)).label("active_cents"),
            *(
                func.count(case((RecurringGift.status == status, 1))).label(status.value)
                for status in RecurringStatus
            ),
        ).where(RecurringGift.donor_id == donor_id)
    ).one()
    return Figures(
        years=[Year(int(r.year), r.total_cents, r.gift_count) for r in years],
        first_gift_on=min((r.first_on for r in years), default=None),
        last_gift_on=max((r.last_on for r in years), default=None),
        largest_cents=max((r.largest_cents for r in years), default=0),
        monthly_cents=monthly.active_cents or 0,
        recurring_status=_recurring_status(monthly),
    )


def _recurring_status(counts) -> str | None:
    for status in (RecurringStatus.ACTIVE, RecurringStatus.PAST_DUE, RecurringStatus.CANCELLED):
        if getattr(counts, status.value):
            return status.value
    return None
