"""The yearly fundraising plan and the figures of a period against it (the dashboard's
progress, the funder report).

A gift's channel: a matcher's payment of a challenge is "foundations"; any other gift of an
organisation is "companies"; otherwise the method decides (card, PayPal, Satispay: online;
bank transfer, postal, cheque: transfer; cash and other untraceable: events). A gift counts
by the day it was received, net of refunds (as campaign totals count it). Functions never
commit.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, select

from campaigns import restitution
from campaigns.models import Campaign
from donors.models import Donor
from legami.extensions import db
from legami.models import Organisation
from payments import ledger
from payments.ledger_models import Channel, Expense, PlanDimension, PlanTarget, Strategy
from payments.matching_models import Challenge
from payments.methods import Method
from payments.models import Donation

ONLINE = {Method.CARD, Method.PAYPAL, Method.SATISPAY}
TRANSFER = {Method.BANK_TRANSFER, Method.POSTAL, Method.CHEQUE}


def channel_of(method: str, donor_kind: str, settles_challenge: bool) -> str:
    if settles_challenge:
        return Channel.FOUNDATIONS
    if donor_kind == "organisation":
        return Channel.COMPANIES
    if method in ONLINE:
        return Channel.ONLINE
    if method in TRANSFER:
        return Channel.TRANSFER
    return Channel.EVENTS


def targets(organisation_id: int, year: int) -> dict[tuple[str, str], int]:
    rows = db.session.scalars(
        select(PlanTarget).where(
            PlanTarget.organisation_id == organisation_id, PlanTarget.year == year
        )
    )
    return {(row.dimension, row.key): row.target_cents for row in rows}


def save_targets(organisation_id: int, year: int, wanted: dict[tuple[str, str], int]) -> None:
    """Set the plan's lines for the year: (dimension, key) -> cents; 0 removes a line."""
    existing = {
        (row.dimension, row.key): row
        for row in db.session.scalars(
            select(PlanTarget).where(
                PlanTarget.organisation_id == organisation_id, PlanTarget.year == year
            )
        )
    }
    for (dimension, key), cents in wanted.items():
        known = Strategy if dimension == PlanDimension.STRATEGY else Channel
        if key not in known.__members__.values():
            raise ValueError(key)
        row = existing.get((dimension, key))
        if not cents:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(
                PlanTarget(
                    organisation_id=organisation_id,
                    year=year,
                    dimension=dimension,
                    key=key,
                    target_cents=cents,
                )
            )
        else:
            row.target_cents = cents


@dataclass
class Period:
    start: date
    end: date
    organisation: Organisation | None
    raised_cents: int = 0
    by_strategy: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_organisation: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_month: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    donors: int = 0
    new_donors: int = 0
    returning_donors: int = 0
    matching_received_cents: int = 0
    spent_by_category: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spent_cents: int = 0
    restitution: dict[str, int] = field(default_factory=dict)
    plan: list[tuple[str, str, int, int]] = field(default_factory=list)  # dim, key, target, actual


def period(start: date, end: date, organisation: Organisation | None = None) -> Period:
    """Every figure the funder report gives for [start, end], one organisation or all."""
    report = Period(start, end, organisation)
    settles = exists().where(Challenge.settled_donation_id == Donation.id)
    stmt = (
        select(
            Donation.donor_id,
            Donation.campaign_id,
            Donation.received_on,
            ledger.NET,
            Donation.method,
            Donor.kind,
            settles,
        )
        .join(Donor, Donor.id == Donation.donor_id)
        .where(ledger.COUNTED, Donation.received_on.between(start, end))
    )
    if organisation is not None:
        stmt = stmt.where(Donation.organisation_id == organisation.id)
    rows = db.session.execute(stmt).all()
    campaigns = {
        c.id: c
        for c in db.session.scalars(
            select(Campaign).where(Campaign.id.in_({row.campaign_id for row in rows}))
        )
    }
    strategy = {cid: ledger.strategy_of(c) for cid, c in campaigns.items()}
    donor_ids = set()
    for donor_id, campaign_id, received_on, net, method, kind, settled in rows:
        report.raised_cents += net
        report.by_strategy[strategy[campaign_id]] += net
        report.by_organisation[campaigns[campaign_id].organisation.name] += net
        report.by_channel[channel_of(method, kind, settled)] += net
        report.by_month[received_on.strftime("%Y-%m")] += net
        if settled:
            report.matching_received_cents += net
        donor_ids.add(donor_id)
    report.donors = len(donor_ids)
    if donor_ids:
        returning = db.session.scalar(
            select(func.count(func.distinct(Donation.donor_id))).where(
                ledger.COUNTED,
                Donation.donor_id.in_(donor_ids),
                Donation.received_on < start,
            )
        )
        report.returning_donors = returning or 0
    report.new_donors = report.donors - report.returning_donors
    spent = select(Expense.category, func.sum(Expense.amount_cents)).where(
        ledger.APPROVED, Expense.spent_on.between(start, end)
    )
    if organisation is not None:
        spent = spent.join(Campaign, Campaign.id == Expense.campaign_id).where(
            Campaign.organisation_id == organisation.id
        )
    for category, cents in db.session.execute(spent.group_by(Expense.category)):
        report.spent_by_category[category] += int(cents)
        report.spent_cents += int(cents)
    report.restitution = restitution.totals(
        restitution.between(start, end, organisation.id if organisation else None)
    )
    if organisation is not None:
        report.plan = _against_plan(report, organisation.id, start.year)
    return report


def _against_plan(report: Period, organisation_id: int, year: int) -> list:
    lines = []
    planned = targets(organisation_id, year)
    for (dimension, key), target in sorted(planned.items()):
        actual_by = report.by_strategy if dimension == PlanDimension.STRATEGY else report.by_channel
        lines.append((dimension, key, target, actual_by.get(key, 0)))
    return lines


def year_progress(organisation: Organisation, year: int) -> Period:
    """The plan of the year against what came in from 1 January to 31 December."""
    return period(date(year, 1, 1), date(year, 12, 31), organisation)
