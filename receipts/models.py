"""Receipts: the issuer's settings, the yearly number sequences, and the receipts themselves.

A receipt is never edited: its snapshot holds the organisation, donor and gift data as they
were when it was issued, and a change (refund, mistake) voids it and, where money remains,
issues a new one with a new number that names the one it replaces.
"""

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from donors.models import Donor
from legami.extensions import db
from legami.models import Organisation, User, one_of
from legami.timeutil import UTCDateTime, now_utc
from payments.models import Donation


class Policy(enum.StrEnum):
    PER_GIFT = "per_gift"  # a receipt when each gift succeeds
    ANNUAL = "annual"  # one receipt per donor for the year
    BOTH = "both"


class Delivery(enum.StrEnum):
    ATTACH = "attach"  # attached to the thank-you mail
    AFTER = "after"  # sent in a mail of its own after the thank-you


class Kind(enum.StrEnum):
    SINGLE = "single"
    ANNUAL = "annual"
    # Under the "both" policy: the year's gifts that have receipts of their own, each with
    # its receipt's number. Not a receipt: unnumbered, it neither replaces nor adds to them.
    SUMMARY = "summary"


class ReceiptStatus(enum.StrEnum):
    ISSUED = "issued"
    VOIDED = "voided"


DEFAULT_NUMBER_FORMAT = "{year}/{number:06d}"


class ReceiptSettings(db.Model):
    """How one organisation issues receipts; a row with the defaults is made when missing."""

    __tablename__ = "receipt_settings"
    __table_args__ = (
        one_of("policy", Policy),
        one_of("delivery", Delivery),
        CheckConstraint("threshold_cents >= 0", name="threshold_not_negative"),
    )

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    policy: Mapped[str] = mapped_column(
        String(10), default=Policy.PER_GIFT, server_default=Policy.PER_GIFT.value
    )
    # Gifts below this get no per-gift receipt unless one is asked for.
    threshold_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    number_format: Mapped[str] = mapped_column(
        String(60), default=DEFAULT_NUMBER_FORMAT, server_default=DEFAULT_NUMBER_FORMAT
    )
    say_copy_on_redownload: Mapped[bool] = mapped_column(default=False, server_default=false())
    delivery: Mapped[str] = mapped_column(
        String(10), default=Delivery.ATTACH, server_default=Delivery.ATTACH.value
    )
    # The legal representative's signature: an image stored like the logo (legami.uploads).
    signature: Mapped[str | None] = mapped_column(String(100))
    # Non-ETS issuers (municipalities, others) may owe stamp duty above 77.47 EUR: their line.
    stamp_duty_line: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The tax regime an issuer without art. 83 prints (e.g. Art Bonus for a municipality).
    legal_basis: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The PAdES seal (receipts.seal): a PKCS#12 file under the instance folder, stored
    # encrypted with a key derived from SECRET_KEY; the certificate's subject, to show.
    seal_certificate: Mapped[str | None] = mapped_column(String(100))
    seal_subject: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # An RFC 3161 time-stamping authority; sealed receipts carry its timestamp when set.
    tsa_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    organisation: Mapped[Organisation] = relationship()


class ReceiptSequence(db.Model):
    """The last number given by an organisation in a calendar year (see receipts.numbering)."""

    __tablename__ = "receipt_sequences"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_not_negative"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, autoincrement=False
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Receipt(db.Model):
    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year", "number", name="uq_receipts_number"),
        one_of("kind", Kind),
        one_of("status", ReceiptStatus),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("(kind = 'summary') = (number IS NULL)", name="numbered_unless_summary"),
        CheckConstraint("kind <> 'single' OR donation_id IS NOT NULL", name="single_has_donation"),
        CheckConstraint(
            "(status = 'issued' AND voided_at IS NULL)"
            " OR (status = 'voided' AND voided_at IS NOT NULL AND void_reason <> '')",
            name="void_complete",
        ),
        # One valid per-gift receipt for a gift at any time (voided ones do not count).
        Index(
            "uq_receipts_issued_single",
            "donation_id",
            unique=True,
            sqlite_where=text("status = 'issued' AND kind = 'single'"),
            postgresql_where=text("status = 'issued' AND kind = 'single'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int]
    number: Mapped[int | None]  # none for a summary (Kind.SUMMARY)
    display_number: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10), default=Kind.SINGLE)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=ReceiptStatus.ISSUED, index=True)
    void_reason: Mapped[str | None] = mapped_column(String(300))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A reissue for what remains of a gift names the receipt it replaces.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"), index=True)
    # The gift is or was disputed at the card issuer: the treasurer checks it.
    disputed: Mapped[bool] = mapped_column(default=False, server_default=false())
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    language: Mapped[str] = mapped_column(String(5), default="it")
    # Organisation, donor and gifts as they were at issue time (see receipts.issuing).
    snapshot: Mapped[dict] = mapped_column(JSON)
    missing_tax_code: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Paths under the instance folder; each PDF is written once and never replaced.
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    voided_pdf_path: Mapped[str | None] = mapped_column(String(300))
    voided_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # The same receipt marked "copia", rendered once on the first re-download when the
    # organisation wants copies to say so; later copies are this file again.
    copy_pdf_path: Mapped[str | None] = mapped_column(String(300))
    copy_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)

    organisation: Mapped[Organisation] = relationship()
    donor: Mapped[Donor] = relationship()
    donation: Mapped[Donation | None] = relationship()
    voided_by: Mapped[User | None] = relationship()
    replaces: Mapped["Receipt | None"] = relationship(
        remote_side=[id], back_populates="replaced_by"
    )
    replaced_by: Mapped[list["Receipt"]] = relationship(back_populates="replaces")
    gifts: Mapped[list["ReceiptGift"]] = relationship(
        back_populates="receipt", cascade="all, delete-orphan", order_by="ReceiptGift.donation_id"
    )


class ReceiptGift(db.Model):
    """A gift a receipt covers, with the amount it counts for it (an annual one has several)."""

    __tablename__ = "receipt_gifts"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    receipt_id: Mapped[int] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True
    )
    donation_id: Mapped[int] = mapped_column(
        ForeignKey("donations.id"), primary_key=True, index=True
    )
    amount_cents: Mapped[int]
    receipt: Mapped[Receipt] = relationship(back_populates="gifts")
    donation: Mapped[Donation] = relationship()


class ReceiptDue(db.Model):
    """A succeeded gift waiting for its receipt. The webhook only writes this row; the
    scheduler issues the receipts in batches, so numbering never slows a payment down."""

    __tablename__ = "receipts_due"

    donation_id: Mapped[int] = mapped_column(
        ForeignKey("donations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class ArchiveCheck(db.Model):
    """One run of the integrity job (receipts.archive.check_all): every stored receipt PDF
    read again and its SHA-256 compared with the one recorded when it was written."""

    __tablename__ = "receipt_archive_checks"
    __table_args__ = (CheckConstraint("files_checked >= 0", name="files_checked_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    files_checked: Mapped[int] = mapped_column(default=0)
    # [{"receipt_id": 3, "number": "2026/000003", "file": "original", "problem": "changed"}]
    problems: Mapped[list] = mapped_column(JSON, default=list)
