"""Matching challenges ("raddoppio") and their match lines: a matcher's pledge, per gift.

A challenge's pool (`cap_cents`) holds what its matcher pledged at most; `committed_cents` is
the sum of its match lines' `held_cents`, moved only by payments.matching with conditional
UPDATEs, and the CHECK keeps it within the cap whatever happens. A match line records, once
per (challenge, gift), what the matcher pledged for that gift (`matched_cents`) and how much
of it still stands (`held_cents`: less after a refund, nothing after a full refund, a reversal
or a lost dispute).
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from donors.models import Donor
from legami.extensions import db
from legami.timeutil import UTCDateTime, now_utc
from payments.models import Donation

MAX_RATIO_PERCENT = 1000


class Challenge(db.Model):
    __tablename__ = "matching_challenges"
    __table_args__ = (
        CheckConstraint("cap_cents > 0", name="cap_positive"),
        CheckConstraint(
            "committed_cents >= 0 AND committed_cents <= cap_cents", name="committed_in_cap"
        ),
        CheckConstraint(
            f"ratio_percent > 0 AND ratio_percent <= {MAX_RATIO_PERCENT}", name="ratio_range"
        ),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("one_off OR monthly", name="counts_some_gifts"),
        CheckConstraint(
            "per_gift_ceiling_cents IS NULL OR per_gift_ceiling_cents > 0", name="ceiling_positive"
        ),
        CheckConstraint("asked_cents IS NULL OR asked_cents >= 0", name="asked_not_negative"),
        CheckConstraint(
            "settled_donation_id IS NULL OR asked_cents IS NOT NULL", name="settled_was_asked"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    matcher_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    # 100: each euro given adds one euro (1:1); 200: two (1:2); 50: fifty cents.
    ratio_percent: Mapped[int]
    cap_cents: Mapped[int]
    committed_cents: Mapped[int] = mapped_column(default=0)
    # The window, in days of Europe/Rome: gifts made (received) on these days count.
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    one_off: Mapped[bool] = mapped_column(default=True)
    monthly: Mapped[bool] = mapped_column(default=True)
    first_time_only: Mapped[bool] = mapped_column(default=False)
    # The most matched for one gift, when the matcher sets one.
    per_gift_ceiling_cents: Mapped[int | None]
    public_text: Mapped[str] = mapped_column(Text, default="")
    # Challenges of one campaign are drawn in this order (then by id).
    position: Mapped[int] = mapped_column(default=0)
    # What the treasurer asked the matcher to pay (the statement), and the gift that paid it.
    asked_cents: Mapped[int | None]
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), unique=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    campaign: Mapped[Campaign] = relationship()
    matcher: Mapped[Donor] = relationship()
    settled_donation: Mapped[Donation | None] = relationship()

    @property
    def remaining_cents(self) -> int:
        return self.cap_cents - self.committed_cents

    @property
    def settled(self) -> bool:
        return self.settled_donation_id is not None


class MatchLine(db.Model):
    __tablename__ = "match_lines"
    __table_args__ = (
        UniqueConstraint("challenge_id", "donation_id", name="uq_match_lines_gift"),
        CheckConstraint("matched_cents > 0", name="matched_positive"),
        CheckConstraint("held_cents >= 0 AND held_cents <= matched_cents", name="held_in_matched"),
        CheckConstraint("base_cents > 0", name="base_positive"),
        Index("ix_match_lines_campaign", "campaign_id", "challenge_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("matching_challenges.id"))
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    # The gift the match was computed on: what the donor gave, without the fee they added.
    base_cents: Mapped[int]
    matched_cents: Mapped[int]
    held_cents: Mapped[int]
    # Why the line holds less than it matched, when it does ("refund", "unconfirmed").
    released_reason: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    challenge: Mapped[Challenge] = relationship()
    donation: Mapped[Donation] = relationship()
