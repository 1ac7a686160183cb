"""Fundraising figures for the dashboard, each computed by SQL aggregates (GROUP BY).

A gift here is a succeeded donation, dated by the day it was received (Europe/Rome) and
counted net of refunds; a fully refunded donation is no longer succeeded and so not a gift.
With an organisation chosen, only gifts to that organisation's campaigns count, and a "new"
donor is one giving to that organisation for the first time.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, and_, cast, extract, func, select

from campaigns.models import Campaign, Lab, Pact, campaign_labs, campaign_pacts
from legami.extensions import db
from payments.models import Donation, RecurringGift, RecurringStatus, Status


@dataclass(frozen=True)
class Year:
    year: int
    donors: int  # gave at least once that year
    new: int  # first gift ever that year
    retained: int  # gave that year and the year before
    lapsed: int  # gave the year before, not that year
    gifts: int
    income_cents: int

    @property
    def retention_rate(self) -> float | None:
        """Share of the previous year's donors who gave again; None when nobody gave then."""
        previous = self.retained + self.lapsed
        return self.retained / previous if previous else None

    @property
    def average_gift_cents(self) -> int | None:
        return _average(self.income_cents, self.gifts)


@dataclass(frozen=True)
class Month:
    first_day: date
    gifts: int
    income_cents: int


@dataclass(frozen=True)
class Share:
    """Income towards one campaign, pact or lab."""

    id: int
    title: str
    gifts: int
    donors: int
    income_cents: int


@dataclass(frozen=True)
class Monthly:
    """Active monthly gifts now: how many donors, how many gifts, how much a month."""

    donors: int
    gifts: int
    monthly_cents: int


@dataclass(frozen=True)
class Dashboard:
    year_from: int
    year_to: int
    organisation_id: int | None
    years: list[Year]
    months: list[Month]
    campaigns: list[Share]
    pacts: list[Share]
    labs: list[Share]
    monthly: Monthly


def _average(total: int, count: int) -> int | None:
    return (total + count // 2) // count if count else None


NET = Donation.amount_cents - Donation.refunded_cents
YEAR = cast(extract("year", Donation.received_on), Integer)
MONTH = cast(extract("month", Donation.received_on), Integer)


def _gifts(organisation_id: int | None, start: date | None, end: date) -> list:
    """Conditions for succeeded gifts received in [start, end) (no start: since ever)."""
    where = [Donation.status == Status.SUCCEEDED, Donation.received_on < end]
    if start is not None:
        where.append(Donation.received_on >= start)
    if organisation_id is not None:
        where.append(Donation.organisation_id == organisation_id)
    return where


def years(year_from: int, year_to: int, organisation_id: int | None = None) -> list[Year]:
    """Donors, new, retained and lapsed donors, gifts and income for each year of the range."""
    until = date(year_to + 1, 1, 1)
    donor_years = (
        select(Donation.donor_id, YEAR.label("year"))
        .where(*_gifts(organisation_id, None, until))
        .group_by(Donation.donor_id, YEAR)
        .cte("donor_years")
    )
    first = (
        select(donor_years.c.donor_id, func.min(donor_years.c.year).label("year"))
        .group_by(donor_years.c.donor_id)
        .cte("first_years")
    )
    previous = donor_years.alias("previous_year")
    people = {
        row.year: row
        for row in db.session.execute(
            select(
                donor_years.c.year,
                func.count().label("donors"),
                func.count().filter(first.c.year == donor_years.c.year).label("new"),
                func.count(previous.c.donor_id).label("retained"),
            )
            .select_from(donor_years)
            .join(first, first.c.donor_id == donor_years.c.donor_id)
            .outerjoin(
                previous,
                and_(
                    previous.c.donor_id == donor_years.c.donor_id,
                    previous.c.year == donor_years.c.year - 1,
                ),
            )
            .where(donor_years.c.year >= year_from - 1)
            .group_by(donor_years.c.year)
        )
    }
    money = {
        row.year: row
        for row in db.session.execute(
            select(YEAR.label("year"), func.count().label("gifts"), func.sum(NET).label("net"))
            .where(*_gifts(organisation_id, date(year_from, 1, 1), until))
            .group_by(YEAR)
        )
    }
    result = []
    for year in range(year_from, year_to + 1):
        now, before, paid = people.get(year), people.get(year - 1), money.get(year)
        retained = now.retained if now else 0
        result.append(
            Year(
                year=year,
                donors=now.donors if now else 0,
                new=now.new if now else 0,
                retained=retained,
                lapsed=(before.donors if before else 0) - retained,
                gifts=paid.gifts if paid else 0,
                income_cents=int(paid.net) if paid else 0,
            )
        )
    return result


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_window(year_from: int, year_to: int, today: date) -> tuple[date, date]:
    """The twelve months shown by month: the last twelve up to this month when the range
    reaches this year, otherwise the last year of the range. Returns [start, end)."""
    if year_to >= today.year:
        end = _next_month(today)
        return date(end.year - 1, end.month, 1), end
    return date(year_to, 1, 1), date(year_to + 1, 1, 1)


def months(start: date, end: date, organisation_id: int | None = None) -> list[Month]:
    """Gifts and income for every month in [start, end), months without gifts included."""
    found = {
        (row.year, row.month): row
        for row in db.session.execute(
            select(
                YEAR.label("year"),
                MONTH.label("month"),
                func.count().label("gifts"),
                func.sum(NET).label("net"),
            )
            .where(*_gifts(organisation_id, start, end))
            .group_by(YEAR, MONTH)
        )
    }
    result = []
    day = start
    while day < end:
        row = found.get((day.year, day.month))
        result.append(Month(day, row.gifts if row else 0, int(row.net) if row else 0))
        day = _next_month(day)
    return result


def _shares(title, key, joins, start: date, end: date, organisation_id: int | None):
    stmt = select(
        key.label("id"),
        title.label("title"),
        func.count().label("gifts"),
        func.count(Donation.donor_id.distinct()).label("donors"),
        func.sum(NET).label("net"),
    ).select_from(Donation)
    for target, on in joins:
        stmt = stmt.join(target, on)
    stmt = (
        stmt.where(*_gifts(organisation_id, start, end))
        .group_by(key, title)
        .order_by(func.sum(NET).desc(), title)
    )
    return [
        Share(row.id, row.title, row.gifts, row.donors, int(row.net))
        for row in db.session.execute(stmt)
    ]


def by_campaign(start: date, end: date, organisation_id: int | None = None) -> list[Share]:
    return _shares(
        Campaign.title,
        Campaign.id,
        [(Campaign, Campaign.id == Donation.campaign_id)],
        start,
        end,
        organisation_id,
    )


def by_pact(start: date, end: date, organisation_id: int | None = None) -> list[Share]:
    """A gift to a campaign that funds several pacts counts in full for each of them."""
    return _shares(
        Pact.title,
        Pact.id,
        [
            (campaign_pacts, campaign_pacts.c.campaign_id == Donation.campaign_id),
            (Pact, Pact.id == campaign_pacts.c.pact_id),
        ],
        start,
        end,
        organisation_id,
    )


def by_lab(start: date, end: date, organisation_id: int | None = None) -> list[Share]:
    """A gift to a campaign that funds several labs counts in full for each of them."""
    return _shares(
        Lab.title,
        Lab.id,
        [
            (campaign_labs, campaign_labs.c.campaign_id == Donation.campaign_id),
            (Lab, Lab.id == campaign_labs.c.lab_id),
        ],
        start,
        end,
        organisation_id,
    )


def monthly(organisation_id: int | None = None) -> Monthly:
    stmt = select(
        func.count(RecurringGift.donor_id.distinct()),
        func.count(),
        func.coalesce(func.sum(RecurringGift.amount_cents), 0),
    ).where(RecurringGift.status == RecurringStatus.ACTIVE)
    if organisation_id is not None:
        stmt = stmt.join(Campaign, Campaign.id == RecurringGift.campaign_id).where(
            Campaign.organisation_id == organisation_id
        )
    donors, gifts, cents = db.session.execute(stmt).one()
    return Monthly(donors, gifts, int(cents))


def dashboard(year_from: int, year_to: int, organisation_id: int | None, today: date) -> Dashboard:
    start, end = date(year_from, 1, 1), date(year_to + 1, 1, 1)
    return Dashboard(
        year_from=year_from,
        year_to=year_to,
        organisation_id=organisation_id,
        years=years(year_from, year_to, organisation_id),
        months=months(*month_window(year_from, year_to, today), organisation_id),
        campaigns=by_campaign(start, end, organisation_id),
        pacts=by_pact(start, end, organisation_id),
        labs=by_lab(start, end, organisation_id),
        monthly=monthly(organisation_id),
    )
