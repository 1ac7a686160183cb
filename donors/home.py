"""The staff home's giving figures: what was raised this month and this year, each against
the same days of last year, and the donors giving monthly now. (The to-dos come from the
packages that own them: payments.home, receipts.home, mailing.home.)

A gift is a succeeded donation dated by the day it was received (Europe/Rome), net of
refunds, as on the fundraising dashboard. No figure reads all the gifts: the year's totals
come from DonorYearTotal, and a part of a year from the gifts of its shorter side, so the
home answers in about the same time at a thousand or a million gifts.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from donors import dashboard_cache
from donors.giving_figures import GIFT, NET
from donors.models import DonorYearTotal
from legami.extensions import db
from legami.timeutil import today_rome
from payments.models import Donation, RecurringGift, RecurringStatus


@dataclass(frozen=True)
class Compared:
    """Net gifts in a part of this year and in the same part of last year."""

    cents: int
    last_year_cents: int

    @property
    def change(self) -> float | None:
        """The growth over last year (0.1 is +10%); None when last year had nothing."""
        if not self.last_year_cents:
            return None
        return self.cents / self.last_year_cents - 1


def monthly_donors() -> int:
    """Donors with a monthly gift running now."""
    return db.session.scalar(
        select(func.count(RecurringGift.donor_id.distinct())).where(
            RecurringGift.status == RecurringStatus.ACTIVE
        )
    )


def _net(start: date, end: date) -> int:
    """Net gifts received in [start, end)."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(NET), 0)).where(
                GIFT, Donation.received_on >= start, Donation.received_on < end
            )
        )
    )


def _year_net(year: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(DonorYearTotal.net_cents), 0)).where(
                DonorYearTotal.year == year
            )
        )
    )


def _same_day(day: date, year: int) -> date:
    """`day` in another year (29 February becomes the 28th)."""
    return (
        day.replace(year=year, day=min(day.day, 28)) if day.month == 2 else day.replace(year=year)
    )


def year_to_date(year: int, through: date) -> int:
    """Net gifts of `year` received up to and including `through` (a day of that year),
    summed over the shorter side: the days up to it, or the year's total less the days after."""
    start, end = date(year, 1, 1), through + timedelta(days=1)
    if (end - start).days <= 183:
        return _net(start, end)
    return _year_net(year) - _net(end, date(year + 1, 1, 1))


def raised(today: date) -> dict[str, Compared]:
    """This month and this year so far, each against the same days of last year."""
    last_year = _same_day(today, today.year - 1)
    month_start = today.replace(day=1)
    return {
        "month": Compared(
            _net(month_start, today + timedelta(days=1)),
            _net(month_start.replace(year=today.year - 1), last_year + timedelta(days=1)),
        ),
        "year": Compared(year_to_date(today.year, today), year_to_date(today.year - 1, last_year)),
    }


def panel(user) -> dict:
    """The staff home's figures panel (kept a minute, as the dashboard's figures)."""
    today = today_rome()
    (found, monthly), computed_at = dashboard_cache.kept(
        ("home", today), lambda: (raised(today), monthly_donors())
    )
    return {"raised": found, "monthly_donors": monthly, "computed_at": computed_at}
