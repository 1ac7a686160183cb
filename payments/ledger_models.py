"""Where the money goes: expenses drawn on a campaign's funds, and the yearly fundraising plan.

An expense is never edited nor deleted: a correction is a reversing entry (the negative of
the original, pointing at it, at most one per original). An entry is public only once a
user other than the one who recorded it approved it; the CHECKs hold these rules in the
schema, whatever code writes the rows.
"""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign, Lab, Pact
from legami.extensions import db
from legami.models import Organisation, User, one_of
from legami.timeutil import UTCDateTime, now_utc


class ExpenseCategory(enum.StrEnum):
    MATERIALS = "materials"
    SERVICES = "services"
    PEOPLE = "people"
    PLACES = "places"
    TRAVEL = "travel"
    FOOD = "food"
    COMMUNICATION = "communication"
    OTHER = "other"


class Expense(db.Model):
    __tablename__ = "expenses"
    __table_args__ = (
        one_of("category", ExpenseCategory),
        CheckConstraint(
            "(amount_cents > 0 AND reverses_id IS NULL) OR "
            "(amount_cents < 0 AND reverses_id IS NOT NULL)",
            name="sign_matches_kind",
        ),
        CheckConstraint("pact_id IS NULL OR lab_id IS NULL", name="one_programme"),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> recorded_by_id", name="four_eyes"
        ),
        CheckConstraint(
            "(approved_by_id IS NULL) = (approved_at IS NULL)", name="approval_complete"
        ),
        CheckConstraint("payee <> '' AND description <> ''", name="texts_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    pact_id: Mapped[int | None] = mapped_column(ForeignKey("pacts.id"), index=True)
    lab_id: Mapped[int | None] = mapped_column(ForeignKey("labs.id"), index=True)
    spent_on: Mapped[date] = mapped_column(Date)
    payee: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    document: Mapped[str | None] = mapped_column(String(100))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    pact: Mapped[Pact | None] = relationship()
    lab: Mapped[Lab | None] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    reverses: Mapped["Expense | None"] = relationship(
        remote_side=[id], back_populates="reversed_by"
    )
    reversed_by: Mapped["Expense | None"] = relationship(back_populates="reverses")

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class Strategy(enum.StrEnum):
    """The network's strategies, which campaigns fund and the yearly plan sets targets for."""

    PACTS = "pacts"
    LABS = "labs"
    CIVIC_CENTRES = "civic_centres"
    WELFARE_LAB = "welfare_lab"
    PLAN = "plan"
    OTHER = "other"


class Channel(enum.StrEnum):
    """How a gift came in, as the plan and the funder report count it."""

    ONLINE = "online"
    TRANSFER = "transfer"
    EVENTS = "events"
    COMPANIES = "companies"
    FOUNDATIONS = "foundations"


class CampaignStrategy(db.Model):
    """The strategy a campaign's money counts for, when staff set it (else it is read from
    what the campaign funds: pacts, labs, or other)."""

    __tablename__ = "campaign_strategies"
    __table_args__ = (one_of("strategy", Strategy),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(20))


class PlanDimension(enum.StrEnum):
    STRATEGY = "strategy"
    CHANNEL = "channel"


class PlanTarget(db.Model):
    """One line of an organisation's yearly fundraising plan: a target per strategy or channel."""

    __tablename__ = "plan_targets"
    __table_args__ = (
        one_of("dimension", PlanDimension),
        CheckConstraint("target_cents >= 0", name="target_not_negative"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        UniqueConstraint("organisation_id", "year", "dimension", "key", name="one_per_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int]
    dimension: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(20))
    target_cents: Mapped[int]
    organisation: Mapped[Organisation] = relationship()
