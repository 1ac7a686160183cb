"""The figures of "Dove vanno i fondi": raised, matched, spent by category and available, for
a campaign, a pact, a lab and the whole network, from approved entries only.

Guarantees: `available_cents == raised_cents - spent_cents` to the cent for every ledger;
raised is the campaign's own figure (campaign_totals, donors' net gifts), matched (what
matchers pledged, payments.matching) is shown apart and never counted as raised or
available; spent counts approved entries only, reversals included (an approved reversal
takes its original off). A pact's or lab's ledger holds the funds of the campaigns that
fund it: a campaign funding two programmes shows its money on both, and its expenses say
which programme they paid for.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, and_, cast, extract, func, select

from campaigns.models import Campaign, CampaignStatus, Lab, Pact
from legami.extensions import db
from payments.ledger_models import CampaignStrategy, Expense, Strategy
from payments.models import Donation, Status

COUNTED = Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED])
NET = Donation.amount_cents - Donation.refunded_cents
APPROVED = Expense.approved_at.is_not(None)


@dataclass
class Ledger:
    raised_cents: int = 0
    matched_cents: int = 0
    spent_cents: int = 0
    gift_count: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    expenses: list[Expense] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)

    @property
    def available_cents(self) -> int:
        return self.raised_cents - self.spent_cents

    @property
    def overspent(self) -> bool:
        """Spent more than raised: the pages say so beside the figures."""
        return self.spent_cents > self.raised_cents


def _public(campaigns) -> list[Campaign]:
    return [c for c in campaigns if c.status != CampaignStatus.DRAFT]


def for_campaigns(campaigns: list[Campaign]) -> Ledger:
    """The ledger of these campaigns' funds together, from approved entries."""
    ledger = Ledger(campaigns=list(campaigns))
    ids = [c.id for c in campaigns]
    for campaign in campaigns:
        ledger.raised_cents += campaign.raised_cents
        ledger.matched_cents += campaign.matched_cents
        ledger.gift_count += campaign.gift_count
    if not ids:
        return ledger
    ledger.expenses = list(
        db.session.scalars(
            select(Expense)
            .where(Expense.campaign_id.in_(ids), APPROVED)
            .order_by(Expense.spent_on, Expense.id)
        )
    )
    by_category: dict[str, int] = defaultdict(int)
    for expense in ledger.expenses:
        ledger.spent_cents += expense.amount_cents
        by_category[expense.category] += expense.amount_cents
    ledger.by_category = {k: v for k, v in sorted(by_category.items()) if v}
    return ledger


def for_campaign(campaign: Campaign) -> Ledger:
    return for_campaigns([campaign])


def for_pact(pact: Pact) -> Ledger:
    return for_campaigns(_public(pact.campaigns))


def for_lab(lab: Lab) -> Ledger:
    return for_campaigns(_public(lab.campaigns))


def strategy_of(campaign: Campaign) -> str:
    """The strategy staff set for the campaign, else what it funds (pacts first)."""
    chosen = db.session.get(CampaignStrategy, campaign.id)
    if chosen is not None:
        return chosen.strategy
    if campaign.pacts:
        return Strategy.PACTS
    if campaign.labs:
        return Strategy.LABS
    return Strategy.OTHER


def set_strategy(campaign: Campaign, strategy: str) -> None:
    row = db.session.get(CampaignStrategy, campaign.id)
    if row is None:
        db.session.add(CampaignStrategy(campaign_id=campaign.id, strategy=Strategy(strategy)))
    else:
        row.strategy = Strategy(strategy)


@dataclass(frozen=True)
class NetworkRow:
    organisation: str
    strategy: str
    year: int
    raised_cents: int
    spent_cents: int

    @property
    def available_cents(self) -> int:
        return self.raised_cents - self.spent_cents


def network(until: date | None = None) -> list[NetworkRow]:
    """Raised and spent per organisation, strategy and year, over public campaigns; raised
    by the day each gift was received, spent by the day of each approved entry."""
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status != CampaignStatus.DRAFT)
    ).all()
    key_of = {c.id: (c.organisation.name, strategy_of(c)) for c in campaigns}
    if not key_of:
        return []
    year = cast(extract("year", Donation.received_on), Integer)
    raised = db.session.execute(
        select(Donation.campaign_id, year, func.sum(NET))
        .where(COUNTED, Donation.campaign_id.in_(key_of), Donation.received_on.is_not(None))
        .where(Donation.received_on <= until if until else True)
        .group_by(Donation.campaign_id, year)
    ).all()
    spent_year = cast(extract("year", Expense.spent_on), Integer)
    spent = db.session.execute(
        select(Expense.campaign_id, spent_year, func.sum(Expense.amount_cents))
        .where(and_(APPROVED, Expense.campaign_id.in_(key_of)))
        .where(Expense.spent_on <= until if until else True)
        .group_by(Expense.campaign_id, spent_year)
    ).all()
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for campaign_id, when, cents in raised:
        cells[(*key_of[campaign_id], int(when))][0] += int(cents or 0)
    for campaign_id, when, cents in spent:
        cells[(*key_of[campaign_id], int(when))][1] += int(cents or 0)
    return [
        NetworkRow(org, strategy, when, r, s)
        for (org, strategy, when), (r, s) in sorted(
            cells.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])
        )
        if r or s
    ]
