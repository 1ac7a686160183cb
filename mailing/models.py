"""Mail waiting to be sent, written in the same transaction as the change that causes it."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from legami.extensions import db
from legami.timeutil import UTCDateTime, now_utc


class MailJob(db.Model):
    """One mail to send about one donation, or to one donor (a portal link, a consent
    confirmation). The unique key makes it at most one per kind and donation: a repeated
    webhook or a second worker cannot queue the same thank-you twice."""

    __tablename__ = "mail_jobs"
    __table_args__ = (
        UniqueConstraint("kind", "donation_id", name="uq_mail_jobs_kind_donation"),
        CheckConstraint("donation_id IS NOT NULL OR donor_id IS NOT NULL", name="has_subject"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
