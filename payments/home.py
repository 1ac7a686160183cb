"""The staff home's payment to-dos: bank transfers waiting, statement lines to check, gifts
that need review (for the treasurer), and monthly payments that failed lately.

Each is one aggregate over the rows in that state (a few among all the gifts), read through
the status index, so the home costs the same at any number of gifts.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from legami.extensions import db
from legami.models import Role
from legami.timeutil import now_utc
from payments.models import Donation, Frequency, LineStatus, Method, StatementLine, Status

# A failed monthly payment older than this is not a to-do any more.
RECENT_DAYS = 30


@dataclass(frozen=True)
class Waiting:
    """A pile of work: how many, how much (cents) and since when."""

    count: int
    amount_cents: int = 0
    oldest: datetime | date | None = None


def _waiting(*where) -> Waiting:
    count, cents, oldest = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Donation.amount_cents), 0),
            func.min(Donation.created_at),
        ).where(*where)
    ).one()
    return Waiting(count, int(cents), oldest)


def transfers_waiting() -> Waiting:
    """Bank transfers promised on the gift form and not confirmed yet."""
    return _waiting(Donation.status == Status.PENDING, Donation.method == Method.BANK_TRANSFER)


def gifts_in_review() -> Waiting:
    """Gifts paid at Stripe, but not the amount or currency asked."""
    return _waiting(Donation.status == Status.REVIEW)


def failed_monthly(since: datetime) -> Waiting:
    """Monthly payments that failed since `since`."""
    return _waiting(
        Donation.status == Status.FAILED,
        Donation.frequency == Frequency.MONTHLY,
        Donation.created_at >= since,
    )


def statement_lines_to_check() -> Waiting:
    """Credits of imported bank statements that matched no gift."""
    count, cents, oldest = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(StatementLine.amount_cents), 0),
            func.min(StatementLine.booked_on),
        ).where(StatementLine.status == LineStatus.UNMATCHED)
    ).one()
    return Waiting(count, int(cents), oldest)


def panel(user) -> dict:
    """The to-dos the user's roles act on (the treasurer's only for treasurers and admins)."""
    since = now_utc() - timedelta(days=RECENT_DAYS)
    found = {"failed_monthly": failed_monthly(since), "failed_since": since}
    if user.has_any_role(Role.TREASURER.value, Role.ADMIN.value):
        found |= {
            "transfers": transfers_waiting(),
            "statement_lines": statement_lines_to_check(),
            "review": gifts_in_review(),
        }
    return found
