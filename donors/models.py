"""Donors: people and organisations who give. The CRM builds on these two tables."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from legami.extensions import db
from legami.timeutil import UTCDateTime, now_utc


class DonorKind(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Donor(db.Model):
    __tablename__ = "donors"
    __table_args__ = (
        CheckConstraint("kind IN ('person', 'organisation')", name="kind"),
        CheckConstraint(
            "(kind = 'person' AND last_name <> '')"
            " OR (kind = 'organisation' AND organisation_name <> '')",
            name="has_name",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=DonorKind.PERSON)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    # Normalised (NFKC, case-folded): the key that find-or-create matches on.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), index=True)
    partita_iva: Mapped[str | None] = mapped_column(String(11))
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(2), default="")
    country: Mapped[str] = mapped_column(String(2), default="IT")
    language: Mapped[str] = mapped_column(String(5), default="it")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    changes: Mapped[list["DonorChange"]] = relationship(
        back_populates="donor", cascade="all, delete-orphan", order_by="DonorChange.id"
    )

    @property
    def display_name(self) -> str:
        if self.kind == DonorKind.ORGANISATION:
            return self.organisation_name
        return f"{self.first_name} {self.last_name}".strip()


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
