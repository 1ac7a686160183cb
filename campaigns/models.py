"""Campaigns and what they fund: generative pacts and community labs.

Their texts are written in Italian (the plain columns, required) and may be written in English
too (the `_en` columns, empty when not translated). `title`, `summary` and the rest stay the
Italian text for every caller; `row.local("title")` gives the text in the current language,
or the Italian one marked as a fallback.
"""

import enum
from datetime import date, datetime

from flask_babel import get_locale
from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, String, Table, Text, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from legami.extensions import db
from legami.models import Organisation, one_of
from legami.timeutil import UTCDateTime, now_utc

CONTENT_LANGUAGE = "it"  # the language every text is written in first


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


class LocalText(str):
    """A text in the language asked for, or the Italian one when it has no translation:
    `language` says which, and `fallback` is true when it stands in for a missing one."""

    language: str
    fallback: bool

    def __new__(cls, value: str, language: str, fallback: bool):
        text = super().__new__(cls, value)
        text.language, text.fallback = language, fallback
        return text


def _english(length: int | None = None) -> Mapped[str]:
    kind = String(length) if length else Text
    return mapped_column(kind, default="", server_default="")


class Translated:
    """Rows whose TRANSLATED fields have an English column `<field>_en` beside the Italian."""

    TRANSLATED: tuple[str, ...] = ()

    def local(self, field: str, language: str | None = None) -> LocalText:
        """The field in `language` (default: the current locale), else in Italian."""
        if field not in self.TRANSLATED:
            raise KeyError(field)
        language = language or str(get_locale() or CONTENT_LANGUAGE)
        italian = getattr(self, field) or ""
        if language == CONTENT_LANGUAGE:
            return LocalText(italian, CONTENT_LANGUAGE, False)
        translated = getattr(self, f"{field}_{language}", "") or ""
        if translated.strip():
            return LocalText(translated, language, False)
        return LocalText(italian, CONTENT_LANGUAGE, bool(italian))

    def untranslated(self, language: str | None = None) -> bool:
        """True when any filled-in text of this row is shown in Italian for `language`."""
        return any(self.local(field, language).fallback for field in self.TRANSLATED)


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


class Pact(Translated, db.Model):
    """A patto gener-attivo. It never names its beneficiary: no personal data here."""

    __tablename__ = "pacts"
    __table_args__ = (one_of("status", ProgrammeStatus),)
    TRANSLATED = ("title", "summary", "story", "reciprocity")

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    story: Mapped[str] = mapped_column(Text, default="")
    reciprocity: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = _english(200)
    summary_en: Mapped[str] = _english(500)
    story_en: Mapped[str] = _english()
    reciprocity_en: Mapped[str] = _english()
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ProgrammeStatus.PROPOSED)
    cover: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    campaigns: Mapped[list["Campaign"]] = relationship(
        secondary=campaign_pacts, back_populates="pacts", order_by="Campaign.ends_on"
    )


class Lab(Translated, db.Model):
    """A laboratorio di comunità: a neighbourhood, town or workplace reading its problems."""

    __tablename__ = "labs"
    __table_args__ = (one_of("status", ProgrammeStatus), one_of("place_kind", PlaceKind))
    TRANSLATED = ("title", "summary", "story", "schedule")

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    story: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200))
    place_kind: Mapped[str] = mapped_column(String(20))
    schedule: Mapped[str] = mapped_column(String(500), default="")
    title_en: Mapped[str] = _english(200)
    summary_en: Mapped[str] = _english(500)
    story_en: Mapped[str] = _english()
    schedule_en: Mapped[str] = _english(500)
    status: Mapped[str] = mapped_column(String(20), default=ProgrammeStatus.PROPOSED)
    cover: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    campaigns: Mapped[list["Campaign"]] = relationship(
        secondary=campaign_labs, back_populates="labs", order_by="Campaign.ends_on"
    )


class Campaign(Translated, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        one_of("status", CampaignStatus),
        CheckConstraint("goal_cents > 0", name="goal_positive"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )
    TRANSLATED = ("title", "summary", "story")

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    story: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str] = _english(200)
    summary_en: Mapped[str] = _english(500)
    story_en: Mapped[str] = _english()
    cover: Mapped[str | None] = mapped_column(String(100))
    goal_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT, index=True)
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


class Update(Translated, db.Model):
    """A dated post on a campaign: what the gifts are doing."""

    __tablename__ = "campaign_updates"
    TRANSLATED = ("title", "body")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = _english(200)
    body_en: Mapped[str] = _english()
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    campaign: Mapped[Campaign] = relationship(back_populates="updates")


TOTAL_SLOTS = 16


class CampaignTotal(db.Model):
    """The one place the raised figure and gift count live, kept current by the donations
    module in the same transaction as each gift.

    Spread over slots (a gift adds to slot `donation id % 16`) so that concurrent gifts lock
    different rows instead of queueing on one; the campaign's figure is their sum.
    """

    __tablename__ = "campaign_totals"
    __table_args__ = (
        CheckConstraint(f"slot >= 0 AND slot < {TOTAL_SLOTS}", name="slot_range"),
        # No `>= 0` checks: an upsert's candidate row carries a refund's negative delta, and
        # both engines check it before resolving the conflict. A gift and its refunds use
        # the same slot, so no slot's sum goes below zero.
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    raised_cents: Mapped[int] = mapped_column(default=0)
    gift_count: Mapped[int] = mapped_column(default=0)
    # Matchers' pledges for the gifts of this slot (payments.matching): shown beside the
    # raised figure ("X raised + Y matched"), never part of it.
    matched_cents: Mapped[int] = mapped_column(default=0, server_default="0")


# Loaded with every campaign in the same SELECT: the sum of its slots.
Campaign.raised_cents = column_property(
    select(func.coalesce(func.sum(CampaignTotal.raised_cents), 0))
    .where(CampaignTotal.campaign_id == Campaign.id)
    .correlate_except(CampaignTotal)
    .scalar_subquery()
)
Campaign.matched_cents = column_property(
    select(func.coalesce(func.sum(CampaignTotal.matched_cents), 0))
    .where(CampaignTotal.campaign_id == Campaign.id)
    .correlate_except(CampaignTotal)
    .scalar_subquery()
)
Campaign.gift_count = column_property(
    select(func.coalesce(func.sum(CampaignTotal.gift_count), 0))
    .where(CampaignTotal.campaign_id == Campaign.id)
    .correlate_except(CampaignTotal)
    .scalar_subquery()
)
