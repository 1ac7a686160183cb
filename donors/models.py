"""Donors: people and organisations who give, and what the CRM keeps about them.

This module stays at the bottom of the package graph: it imports only the shell and
`donors.match_keys` (pure functions). The reporting modules (giving figures, segments,
timeline, dashboard) query payments and mailing.
"""

import enum
import hashlib
import unicodedata
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from donors import match_keys
from legami.extensions import db
from legami.models import User, one_of
from legami.timeutil import UTCDateTime, now_utc


class DonorKind(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class DonorSource(enum.StrEnum):
    CAMPAIGN = "campaign"  # gave through a campaign page
    IMPORT = "import"
    STAFF = "staff"
    FORM = "form"  # signed up for the newsletter without giving


class ConsentPurpose(enum.StrEnum):
    NEWSLETTER = "newsletter"
    REPORT_BACK = "report_back"


class ConsentAction(enum.StrEnum):
    REQUESTED = "requested"  # double opt-in mail sent, not yet confirmed
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ConsentSource(enum.StrEnum):
    FORM = "form"
    DOUBLE_OPT_IN = "double_opt_in"
    IMPORT = "import"
    STAFF = "staff"
    PORTAL = "portal"
    UNSUBSCRIBE = "unsubscribe"
    ERASURE = "erasure"
    BOUNCE = "bounce"


class SuppressionReason(enum.StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    ERASURE = "erasure"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"


class InteractionKind(enum.StrEnum):
    CALL = "call"
    MEETING = "meeting"
    LETTER = "letter"
    EMAIL = "email"
    OTHER = "other"


def fold(text: str) -> str:
    """Accent- and case-insensitive form: `Nicolò Rossi` and `NICOLO ROSSI` fold alike."""
    if text.isascii():  # nothing to decompose (the common case, and much faster)
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def email_hash(normalised_email: str) -> str:
    """The suppression key: a forgotten address is kept only as this hash."""
    return hashlib.sha256(normalised_email.encode()).hexdigest()


donor_tags = Table(
    "donor_tags",
    db.metadata,
    Column("donor_id", ForeignKey("donors.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tags"
    __table_args__ = (CheckConstraint("name <> ''", name="name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class Donor(db.Model):
    __tablename__ = "donors"
    __table_args__ = (
        CheckConstraint("kind IN ('person', 'organisation')", name="kind"),
        # A person may have no name (a newsletter subscriber known by the address alone).
        CheckConstraint("kind = 'person' OR organisation_name <> ''", name="has_name"),
        one_of("source", DonorSource),
        Index("ix_donors_name_key_postal_code", "name_key", "postal_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=DonorKind.PERSON)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    # Folded display name (see `fold`), kept by a mapper event: the key for search and dedupe.
    name_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    # Kept by the same event, for the duplicate finder (donors.dedupe): a person's name with
    # first and last swapped (when both are given), the folded town, the mailbox the address
    # reaches and the phone in E.164 (donors.match_keys). Not indexed: the finder hash-joins
    # the whole table, and imports write them for every row.
    swapped_name_key: Mapped[str] = mapped_column(String(300), default="", server_default="")
    town_key: Mapped[str] = mapped_column(String(100), default="", server_default="")
    mailbox_key: Mapped[str] = mapped_column(String(254), default="", server_default="")
    phone_key: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # The primary address, normalised (NFKC, case-folded): the key find-or-create matches on.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), index=True)
    partita_iva: Mapped[str | None] = mapped_column(String(11))
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    town: Mapped[str] = mapped_column(String(100), default="", index=True)
    province: Mapped[str] = mapped_column(String(2), default="")
    country: Mapped[str] = mapped_column(String(2), default="IT")
    language: Mapped[str] = mapped_column(String(5), default="it")
    source: Mapped[str] = mapped_column(
        String(20), default=DonorSource.CAMPAIGN, server_default="campaign"
    )
    # Which campaign, file or staff member brought the donor in, for people to read.
    source_detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Current newsletter consent; its history is in consent_events.
    newsletter_consent: Mapped[bool] = mapped_column(
        default=False, server_default=false(), index=True
    )
    # Report-back mails go to a campaign's donors (where the organisation allows) unless this.
    report_back_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    changes: Mapped[list["DonorChange"]] = relationship(
        back_populates="donor", cascade="all, delete-orphan", order_by="DonorChange.id"
    )
    emails: Mapped[list["DonorEmail"]] = relationship(
        back_populates="donor", cascade="all, delete-orphan", order_by="DonorEmail.id"
    )
    tags: Mapped[list[Tag]] = relationship(secondary=donor_tags, order_by=Tag.name)

    @property
    def display_name(self) -> str:
        return display_name(self.kind, self.first_name, self.last_name, self.organisation_name)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


def display_name(kind: str, first_name: str, last_name: str, organisation_name: str) -> str:
    if kind == DonorKind.ORGANISATION:
        return organisation_name or ""
    return f"{first_name or ''} {last_name or ''}".strip()


KEYED_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "town",
    "email",
    "phone",
    "country",
)

DERIVED_KEYS = ("name_key", "swapped_name_key", "town_key", "mailbox_key", "phone_key")


def derived_keys(values: dict) -> dict[str, str]:
    """The key columns of a donor with these values (missing ones take the defaults): what
    the mapper event sets, and what bulk writes that bypass it must set themselves."""
    kind = values.get("kind") or DonorKind.PERSON
    first, last = values.get("first_name") or "", values.get("last_name") or ""
    swapped = ""
    if kind == DonorKind.PERSON and first.strip() and last.strip():
        swapped = fold(f"{last} {first}")
    return {
        "name_key": fold(display_name(kind, first, last, values.get("organisation_name"))),
        "swapped_name_key": swapped,
        "town_key": fold(values.get("town") or ""),
        "mailbox_key": match_keys.mailbox_key(values.get("email") or ""),
        "phone_key": match_keys.phone_key(values.get("phone") or "", values.get("country") or "IT"),
    }


@event.listens_for(Donor, "before_insert")
@event.listens_for(Donor, "before_update")
def _keep_keys(mapper, connection, donor: Donor) -> None:
    for name, value in derived_keys({f: getattr(donor, f) for f in KEYED_FIELDS}).items():
        setattr(donor, name, value)


class DonorYearTotal(db.Model):
    """A donor's gifts and net amount in one year (by the day received, Europe/Rome): the
    giving figures' GIFT and NET summed, so segments read a row per donor and year instead
    of the donations. Kept in each change's transaction (donors.year_totals); a merge
    rebuilds the survivor's rows. A row whose gifts were all refunded stays at zero."""

    __tablename__ = "donor_year_totals"
    __table_args__ = (
        CheckConstraint("gifts >= 0", name="gifts_not_negative"),
        CheckConstraint("net_cents >= 0", name="net_not_negative"),
        # Segments pick a year's givers and sum their years from the index alone.
        Index("ix_donor_year_totals_year", "year", "donor_id", "gifts", "net_cents"),
        # Derived from the donations: a merge recomputes it rather than moving it.
        {"info": {"derived": True}},
    )

    donor_id: Mapped[int] = mapped_column(
        ForeignKey("donors.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    gifts: Mapped[int] = mapped_column(default=0)
    net_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class DonorEmail(db.Model):
    """A further address of a donor (the primary one is `Donor.email`); merges add these."""

    __tablename__ = "donor_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    donor: Mapped[Donor] = relationship(back_populates="emails")


class DonorChange(db.Model):
    """One changed field of a donor: what it was, what it became, and what changed it."""

    __tablename__ = "donor_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    donor: Mapped[Donor] = relationship(back_populates="changes")


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class DonorSuggestion(db.Model):
    """Details someone gave (on a gift form) that differ from the donor's record: the record
    changes only when staff accept them (donors.suggestions), or the donor edits it."""

    __tablename__ = "donor_suggestions"
    __table_args__ = (
        one_of("status", SuggestionStatus),
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    # Field name -> the suggested value, for the fields of `donors.suggestions.FIELDS`.
    values: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=SuggestionStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Interaction(db.Model):
    """A call, meeting or letter with the donor, written down by staff."""

    __tablename__ = "interactions"
    __table_args__ = (
        one_of("kind", InteractionKind),
        CheckConstraint("summary <> ''", name="summary_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    user: Mapped[User | None] = relationship()


class ConsentEvent(db.Model):
    """One step of a donor's consent history: asked, given or withdrawn; when, how, whence."""

    __tablename__ = "consent_events"
    __table_args__ = (
        one_of("purpose", ConsentPurpose),
        one_of("action", ConsentAction),
        one_of("source", ConsentSource),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20), default=ConsentPurpose.NEWSLETTER)
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(45), default="")
    notice_version: Mapped[str] = mapped_column(String(20), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Set on a `requested` event when its double opt-in link is followed: it confirms once.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(300), default="")


class Suppression(db.Model):
    """An address that must not be mailed or re-imported, kept only as a hash."""

    __tablename__ = "suppressions"
    __table_args__ = (one_of("reason", SuppressionReason),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class Segment(db.Model):
    """A saved filter over donors; `definition` is the JSON the segment builder compiles."""

    __tablename__ = "segments"
    __table_args__ = (CheckConstraint("name <> ''", name="name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    definition: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


class DonorMerge(db.Model):
    """The record of a merge: the donor that disappeared, as it was, and what moved."""

    __tablename__ = "donor_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    merged_donor_id: Mapped[int]  # no foreign key: that row is gone
    snapshot: Mapped[dict] = mapped_column(JSON)
    choices: Mapped[dict] = mapped_column(JSON)
    moved: Mapped[dict] = mapped_column(JSON)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class PortalToken(db.Model):
    """A donor portal link: only its hash is stored; it works once, before it expires."""

    __tablename__ = "portal_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    CHECKED = "checked"  # the dry run is done
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportOutcome(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    REJECT = "reject"


class ImportJob(db.Model):
    """An uploaded donor file, its column mapping, and how far its dry and real runs went."""

    __tablename__ = "import_jobs"
    __table_args__ = (one_of("status", ImportStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(255))
    preset: Mapped[str] = mapped_column(String(30), default="generic")
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.UPLOADED)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportRow(db.Model):
    """What a run did (or, in the dry run, would do) with one row of the file, and why."""

    __tablename__ = "import_rows"
    __table_args__ = (
        one_of("outcome", ImportOutcome),
        # The report lists one run's rows in file order, filtered by outcome.
        Index("ix_import_rows_job_run", "job_id", "dry_run", "row_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    dry_run: Mapped[bool]
    row_number: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id", ondelete="SET NULL"))
