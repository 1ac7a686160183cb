"""What pacts and labs give back, as dated public entries (the restitution timeline).

A pact's entry says what its beneficiary gave back (hours of volunteering, a task, a skill
shared) and never who they are: there is no column for a name or any other personal datum,
and the description is public text written by staff. A lab's entry records a meeting (its
participants) or an action started.
"""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Lab, Pact
from legami.extensions import db
from legami.models import one_of
from legami.timeutil import UTCDateTime, now_utc


class OutcomeKind(enum.StrEnum):
    HOURS = "hours"  # pact: hours of volunteering (quantity = hours)
    TASK = "task"  # pact: a task carried out (quantity = how many)
    SKILL = "skill"  # pact: a skill shared (quantity = sessions)
    MEETING = "meeting"  # lab: a meeting held (quantity = participants)
    ACTION = "action"  # lab: an action started (quantity = 1)


PACT_KINDS = (OutcomeKind.HOURS, OutcomeKind.TASK, OutcomeKind.SKILL)
LAB_KINDS = (OutcomeKind.MEETING, OutcomeKind.ACTION)


class Outcome(db.Model):
    __tablename__ = "outcomes"
    __table_args__ = (
        one_of("kind", OutcomeKind),
        CheckConstraint("(pact_id IS NULL) <> (lab_id IS NULL)", name="one_programme"),
        CheckConstraint(
            "(pact_id IS NOT NULL AND kind IN ('hours', 'task', 'skill')) OR "
            "(lab_id IS NOT NULL AND kind IN ('meeting', 'action'))",
            name="kind_fits_programme",
        ),
        CheckConstraint("quantity > 0 AND quantity <= 100000", name="quantity_range"),
        CheckConstraint("description <> ''", name="description_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int | None] = mapped_column(
        ForeignKey("pacts.id", ondelete="CASCADE"), index=True
    )
    lab_id: Mapped[int | None] = mapped_column(
        ForeignKey("labs.id", ondelete="CASCADE"), index=True
    )
    happened_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int]
    description: Mapped[str] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    pact: Mapped[Pact | None] = relationship()
    lab: Mapped[Lab | None] = relationship()
