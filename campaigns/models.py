"""Campaigns and what they fund: generative pacts and community labs."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from legami.extensions import db
from legami.models import Organisation
from legami.timeutil import UTCDateTime, now_utc


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    ENDED = "ended"
    ARCHIVED = "archived"


class ProgrammeStatus(enum.StrEnum):
    """The state of a pact or a lab."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    CONCLUDED = "concluded"


class PlaceKind(enum.StrEnum):
    NEIGHBOURHOOD = "neighbourhood"
    TOWN = "town"
    WORKPLACE = "workplace"


def _in(column: str, enum_cls) -> CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=column)


campaign_pacts = Table(
    "campaign_pacts",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("pact_id", ForeignKey("pacts.id", ondelete="CASCADE"), primary_key=True),
)

campaign_labs = Table(
    "campaign_labs",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("lab_id", ForeignKey("labs.id", ondelete="CASCADE"), primary_key=True),
)


class Pact(db.Model):
    """A patto gener-attivo. It never names its beneficiary: no personal data here."""

    __tablename__ = "pacts"
    __table_args__ = (_in("status", ProgrammeStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    story: Mapped[str] = mapped_column(Text, default="")
    reciprocity: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ProgrammeStatus.PROPOSED)
    cover: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    campaigns: Mapped[list["Campaign"]] = relationship(
        secondary=campaign_pacts, back_populates="pacts", order_by="Campaign.ends_on"
    )


class Lab(db.Model):
    """A laboratorio di comunità: a neighbourhood, town or workplace reading its problems."""

    __tablename__ = "labs"
    __table_args__ = (_in("status", ProgrammeStatus), _in("place_kind", PlaceKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    story: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200))
    place_kind: Mapped[str] = mapped_column(String(20))
    schedule: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=ProgrammeStatus.PROPOSED)
    cover: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    campaigns: Mapped[list["Campaign"]] = relationship(
        secondary=campaign_labs, back_populates="labs", order_by="Campaign.ends_on"
    )


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        _in("status", CampaignStatus),
        CheckConstraint("goal_cents > 0", name="goal_positive"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        # Kept current by the donations module: the one place the raised figure is read from.
        CheckConstraint("raised_cents >= 0", name="raised_not_negative"),
        CheckConstraint("gift_count >= 0", name="gift_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    story: Mapped[str] = mapped_column(Text, default="")
    cover: Mapped[str | None] = mapped_column(String(100))
    goal_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT, index=True)
    raised_cents: Mapped[int] = mapped_column(default=0)
    gift_count: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    pacts: Mapped[list[Pact]] = relationship(
        secondary=campaign_pacts, back_populates="campaigns", order_by=Pact.title
    )
    labs: Mapped[list[Lab]] = relationship(
        secondary=campaign_labs, back_populates="campaigns", order_by=Lab.title
    )
    updates: Mapped[list["Update"]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="Update.published_at.desc()",
    )

    @property
    def is_public(self) -> bool:
        """Archived pages stay reachable (old links, receipts); only listings drop them."""
        return self.status != CampaignStatus.DRAFT


class Update(db.Model):
    """A dated post on a campaign: what the gifts are doing."""

    __tablename__ = "campaign_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    campaign: Mapped[Campaign] = relationship(back_populates="updates")
