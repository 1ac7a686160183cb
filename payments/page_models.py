"""Personal fundraising pages: a supporter's (or a team's) page for a campaign, and the gifts
made through it.

A page exists for the public only once its owner confirmed their e-mail (status `pending`
when the campaign's staff approve pages first, else `live`). Gifts stay the donor's and the
campaign's; `PageGift` only says through which page (and team) they came: one row per gift,
and one per monthly gift, whose instalments each get their own row when they are paid.
"""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from donors.models import Donor
from legami.extensions import db
from legami.models import one_of
from legami.timeutil import UTCDateTime, now_utc
from payments.models import Donation, RecurringGift

MAX_STORY = 2000


class PageStatus(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"  # waiting for the owner's e-mail confirmation
    PENDING = "pending"  # waiting for staff approval
    LIVE = "live"
    HIDDEN = "hidden"  # taken down by staff; its gifts stay with the campaign
    REJECTED = "rejected"


class PageSettings(db.Model):
    """Whether a campaign takes personal pages, and whether staff approve them first."""

    __tablename__ = "fundraising_settings"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    allow_pages: Mapped[bool] = mapped_column(default=False)
    needs_approval: Mapped[bool] = mapped_column(default=True)


class FundraisingPage(db.Model):
    __tablename__ = "fundraising_pages"
    __table_args__ = (
        one_of("status", PageStatus),
        CheckConstraint("goal_cents > 0", name="goal_positive"),
        CheckConstraint("NOT (is_team AND team_id IS NOT NULL)", name="team_in_no_team"),
        CheckConstraint(f"length(story) <= {MAX_STORY}", name="story_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    is_team: Mapped[bool] = mapped_column(default=False)
    # The team this member's page belongs to.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("fundraising_pages.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(150))
    story: Mapped[str] = mapped_column(Text, default="")  # plain text, never HTML
    photo: Mapped[str | None] = mapped_column(String(100))
    goal_cents: Mapped[int]
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=PageStatus.UNCONFIRMED, index=True)
    on_leaderboard: Mapped[bool] = mapped_column(default=True)
    created_ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    goal_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The owner's one thank-you, relayed by Legami to the page's donors.
    thanks_message: Mapped[str] = mapped_column(Text, default="")
    thanks_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    owner: Mapped[Donor] = relationship()
    team: Mapped["FundraisingPage | None"] = relationship(remote_side=[id])

    @property
    def is_public(self) -> bool:
        return self.status == PageStatus.LIVE


class PageGift(db.Model):
    __tablename__ = "page_gifts"
    __table_args__ = (
        CheckConstraint("(donation_id IS NULL) <> (recurring_gift_id IS NULL)", name="one_gift"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("fundraising_pages.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("fundraising_pages.id"), index=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), unique=True)
    recurring_gift_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_gifts.id"), unique=True
    )
    page: Mapped[FundraisingPage] = relationship(foreign_keys=[page_id])
    donation: Mapped[Donation | None] = relationship()
    recurring_gift: Mapped[RecurringGift | None] = relationship()
