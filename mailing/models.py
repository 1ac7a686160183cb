"""Mail: the queue of transactional mail, and newsletters with their per-recipient deliveries."""

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from donors.models import Segment
from legami.extensions import db
from legami.models import Organisation, one_of
from legami.timeutil import UTCDateTime, now_utc


class MailJob(db.Model):
    """One mail to send about one donation, about one receipt (an annual receipt covers no
    single donation), or to one donor (a portal link, a consent confirmation). The unique keys
    make it at most one per kind and donation or receipt: a repeated webhook or a second
    worker cannot queue the same thank-you twice."""

    __tablename__ = "mail_jobs"
    __table_args__ = (
        UniqueConstraint("kind", "donation_id", name="uq_mail_jobs_kind_donation"),
        UniqueConstraint("kind", "receipt_id", name="uq_mail_jobs_kind_receipt"),
        CheckConstraint(
            "donation_id IS NOT NULL OR donor_id IS NOT NULL OR receipt_id IS NOT NULL",
            name="has_subject",
        ),
        # Only mails to a donor have donor_id; without the NULLs of every thank-you in it,
        # SQLite's statistics no longer make a donor's mails look like most of the queue.
        Index(
            "ix_mail_jobs_donor_id",
            "donor_id",
            sqlite_where=text("donor_id IS NOT NULL"),
            postgresql_where=text("donor_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


# --- Newsletters ----------------------------------------------------------------------------


class NewsletterStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # waits for scheduled_at
    SENDING = "sending"  # claimed by one sender (claim_token); Delivery rows are frozen
    PAUSED = "paused"  # by staff; resuming schedules it again and skips what was sent
    LATE = "late"  # its time passed more than the grace period ago: waits for staff
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"  # accepted by the SMTP server (or written to the outbox)
    FAILED = "failed"  # refused for good (5xx) or out of retries
    BOUNCED = "bounced"  # accepted, then a DSN came back (legami mailing process-bounces)


LANGUAGES = ("it", "en")


class MailSettings(db.Model):
    """An organisation's newsletter sender; empty fields fall back to its name and MAIL_FROM."""

    __tablename__ = "mail_settings"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    from_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    from_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    reply_to: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # Opens and clicks are recorded only when the organisation turns this on (privacy).
    track_engagement: Mapped[bool] = mapped_column(default=False, server_default=false())


newsletter_segments = Table(
    "newsletter_segments",
    db.metadata,
    Column("newsletter_id", ForeignKey("newsletters.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
)


class Newsletter(db.Model):
    __tablename__ = "newsletters"
    __table_args__ = (
        one_of("status", NewsletterStatus),
        CheckConstraint("title <> ''", name="title_not_empty"),
        CheckConstraint(
            "status NOT IN ('scheduled', 'late') OR scheduled_at IS NOT NULL",
            name="scheduled_has_time",
        ),
        CheckConstraint("status <> 'sending' OR claim_token IS NOT NULL", name="sending_claimed"),
        CheckConstraint("recipients_total IS NULL OR recipients_total >= 0", name="total_ok"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The staff's name for it; the subject lives in each language version.
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=NewsletterStatus.DRAFT, index=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_email: Mapped[str] = mapped_column(String(254), default="")
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    track_engagement: Mapped[bool] = mapped_column(default=False)
    # The campaign update it was made from, if any.
    campaign_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_updates.id", ondelete="SET NULL")
    )
    # A report-back on this campaign (mailing.report_back): it goes to the campaign's donors
    # under the report-back rule (donors.consent.may_receive_report_back), not to segments.
    report_back_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The sender holding it: a compare-and-set on status sets the token, and every batch
    # the sender commits checks it is still the holder (see mailing.sending).
    claim_token: Mapped[str | None] = mapped_column(String(36))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Frozen with the Delivery rows when sending starts.
    recipients_total: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    organisation: Mapped[Organisation] = relationship()
    segments: Mapped[list[Segment]] = relationship(
        secondary=newsletter_segments, order_by=Segment.name
    )
    versions: Mapped[list["NewsletterVersion"]] = relationship(
        back_populates="newsletter",
        cascade="all, delete-orphan",
        order_by="NewsletterVersion.language.desc()",  # 'it' first
    )


class NewsletterVersion(db.Model):
    """One language of a newsletter; donors get theirs, else the Italian one."""

    __tablename__ = "newsletter_versions"
    __table_args__ = (
        CheckConstraint(
            "language IN (" + ", ".join(f"'{code}'" for code in LANGUAGES) + ")", name="language"
        ),
        CheckConstraint("subject <> ''", name="subject_not_empty"),
    )

    newsletter_id: Mapped[int] = mapped_column(
        ForeignKey("newsletters.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    preheader: Mapped[str] = mapped_column(String(200), default="")
    # Markdown, with block lines such as `[[campaign:slug]]` (see mailing.compose).
    body: Mapped[str] = mapped_column(Text, default="")
    newsletter: Mapped[Newsletter] = relationship(back_populates="versions")


class Delivery(db.Model):
    """One recipient of one newsletter, frozen when sending starts: the send walks these rows,
    so a restart, a pause or a second sender skips what went out and misses no one."""

    __tablename__ = "newsletter_deliveries"
    __table_args__ = (
        UniqueConstraint("newsletter_id", "email", name="uq_newsletter_deliveries_email"),
        one_of("status", DeliveryStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_newsletter_deliveries_progress", "newsletter_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id", ondelete="CASCADE"))
    donor_id: Mapped[int | None] = mapped_column(
        ForeignKey("donors.id", ondelete="SET NULL"), index=True
    )
    # Copied from the donor at freezing time, so the send reads only this table.
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(5), default="it")
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    smtp_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
