"""Fundraising figures for the dashboard, each computed by SQL aggregates (GROUP BY).

A gift here is a succeeded donation, dated by the day it was received (Europe/Rome) and
counted net of refunds; a fully refunded donation is no longer succeeded and so not a gift.
With an organisation chosen, only gifts to that organisation's campaigns count, and a "new"
donor is one giving to that organisation for the first time.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, cast, extract, func, literal, select, union_all

from campaigns.models import Campaign, Lab, Pact, campaign_labs, campaign_pacts
from donors.giving_figures import GIFT, NET
from donors.models import DonorYearTotal
from legami.extensions import db
from payments.matching_models import MatchLine
from payments.models import Donation, RecurringGift, RecurringStatus


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
    income_cents: int
    # Matchers' pledges still held for those gifts (payments.matching), beside the income.
    matched_cents: int = 0


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
    """The mean, rounded half up to the cent (as the donor record's figures round it)."""
    return (2 * total + count) // (2 * count) if count else None


YEAR = cast(extract("year", Donation.received_on), Integer)
MONTH = cast(extract("month", Donation.received_on), Integer)


def _gifts(organisation_id: int | None, start: date | None, end: date) -> list:
    """Conditions for succeeded gifts received in [start, end) (no start: since ever)."""
    where = [GIFT, Donation.received_on < end]
    if start is not None:
        where.append(Donation.received_on >= start)
    if organisation_id is not None:
        where.append(Donation.organisation_id == organisation_id)
    return where


def years(year_from: int, year_to: int, organisation_id: int | None = None) -> list[Year]:
    """Donors, new, retained and lapsed donors, gifts and income for each year of the range.

    One pass over each donor's years (DonorYearTotal, a row per donor and year instead of
    a row per gift; the gifts themselves only for one organisation's share), in order: they
    tell whether a year is the donor's first (new) and whether they gave the year before.
    """
    if organisation_id is None:
        donor_years = (
            select(
                DonorYearTotal.donor_id,
                DonorYearTotal.year,
                DonorYearTotal.gifts,
                DonorYearTotal.net_cents.label("net"),
            )
            .where(DonorYearTotal.gifts > 0, DonorYearTotal.year <= year_to)
            .cte("donor_years")
        )
    else:
        donor_years = (
            select(
                Donation.donor_id,
                YEAR.label("year"),
                func.count().label("gifts"),
                func.sum(NET).label("net"),
            )
            .where(*_gifts(organisation_id, None, date(year_to + 1, 1, 1)))
            .group_by(Donation.donor_id, YEAR)
            .cte("donor_years")
        )
    in_order = {"partition_by": donor_years.c.donor_id, "order_by": donor_years.c.year}
    marked = select(
        donor_years.c.year,
        donor_years.c.gifts,
        donor_years.c.net,
        func.row_number().over(**in_order).label("nth"),
        func.lag(donor_years.c.year).over(**in_order).label("previous"),
    ).subquery("marked")
    found = {
        row.year: row
        for row in db.session.execute(
            select(
                marked.c.year,
                func.count().label("donors"),
                func.count().filter(marked.c.nth == 1).label("new"),
                func.count().filter(marked.c.previous == marked.c.year - 1).label("retained"),
                func.sum(marked.c.gifts).label("gifts"),
                func.sum(marked.c.net).label("net"),
            )
            .where(marked.c.year >= year_from - 1)
            .group_by(marked.c.year)
        )
    }
    result = []
    for year in range(year_from, year_to + 1):
        now, before = found.get(year), found.get(year - 1)
        retained = now.retained if now else 0
        result.append(
            Year(
                year=year,
                donors=now.donors if now else 0,
                new=now.new if now else 0,
                retained=retained,
                lapsed=(before.donors if before else 0) - retained,
                gifts=now.gifts if now else 0,
                income_cents=int(now.net) if now else 0,
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


def shares(start: date, end: date, organisation_id: int | None = None) -> dict[str, list[Share]]:
    """Gifts and income in [start, end) by campaign, by pact and by lab (keys `campaigns`,
    `pacts`, `labs`), largest first. A gift to a campaign that funds several pacts or labs
    counts in full for each of them.

    The gifts are summed once per campaign; pacts and labs add up those campaign sums.
    """
    per_campaign = (
        select(Donation.campaign_id, func.count().label("gifts"), func.sum(NET).label("net"))
        .where(*_gifts(organisation_id, start, end))
        .group_by(Donation.campaign_id)
        .cte("per_campaign")
    )
    matched = (
        select(MatchLine.campaign_id, func.sum(MatchLine.held_cents).label("matched"))
        .join(Donation, Donation.id == MatchLine.donation_id)
        .where(*_gifts(organisation_id, start, end))
        .group_by(MatchLine.campaign_id)
        .cte("matched_per_campaign")
    )

    def summed(kind: str, model, link=None, column=None):
        stmt = select(
            literal(kind).label("kind"),
            model.id.label("id"),
            model.title.label("title"),
            func.sum(per_campaign.c.gifts).label("gifts"),
            func.sum(per_campaign.c.net).label("net"),
            func.coalesce(func.sum(matched.c.matched), 0).label("matched"),
        ).select_from(
            per_campaign.outerjoin(matched, matched.c.campaign_id == per_campaign.c.campaign_id)
        )
        if link is None:
            stmt = stmt.join(model, model.id == per_campaign.c.campaign_id)
        else:
            stmt = stmt.join(link, link.c.campaign_id == per_campaign.c.campaign_id).join(
                model, model.id == column
            )
        return stmt.group_by(model.id, model.title)

    every = union_all(
        summed("campaigns", Campaign),
        summed("pacts", Pact, campaign_pacts, campaign_pacts.c.pact_id),
        summed("labs", Lab, campaign_labs, campaign_labs.c.lab_id),
    ).subquery()
    found: dict[str, list[Share]] = {"campaigns": [], "pacts": [], "labs": []}
    for row in db.session.execute(
        select(every).order_by(every.c.kind, every.c.net.desc(), every.c.title)
    ):
        found[row.kind].append(
            Share(row.id, row.title, int(row.gifts), int(row.net), int(row.matched))
        )
    return found


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
    by = shares(date(year_from, 1, 1), date(year_to + 1, 1, 1), organisation_id)
    return Dashboard(
        year_from=year_from,
        year_to=year_to,
        organisation_id=organisation_id,
        years=years(year_from, year_to, organisation_id),
        months=months(*month_window(year_from, year_to, today), organisation_id),
        campaigns=by["campaigns"],
        pacts=by["pacts"],
        labs=by["labs"],
        monthly=monthly(organisation_id),
    )
