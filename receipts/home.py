"""The staff home's receipt to-dos, for the treasurer: receipts waiting to be issued, and
the week's gifts that should have a receipt and have none (the reconciliation's reasons
"missing" and "not_deductible"). Receipts are issued minutes after a gift, so a gift of the
week without one is news; older ones are the reconciliation's business. A week of gifts is
read gift by gift (about 20 ms at a million gifts; a month, about 120 ms)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from legami.extensions import db
from legami.timeutil import today_rome
from receipts.exports import ISSUABLE, unreceipted
from receipts.models import ReceiptDue

RECENT_DAYS = 7


@dataclass(frozen=True)
class Due:
    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class Missing:
    """Recent gifts without a receipt in one year, for one reason of ISSUABLE."""

    year: int
    reason: str
    gifts: int
    amount_cents: int


def due() -> Due:
    """Succeeded gifts whose receipt the scheduler has not issued yet."""
    count, oldest = db.session.execute(select(func.count(), func.min(ReceiptDue.created_at))).one()
    return Due(count, oldest)


def missing(days: int = RECENT_DAYS) -> list[Missing]:
    """The gifts of the last `days` days without a receipt they should have, by year
    (the window may reach into last year) and reason."""
    today = today_rome()
    since = today - timedelta(days=days)
    found = []
    for year in range(since.year, today.year + 1):
        for row in unreceipted(year, None, since=since):
            if row.reason in ISSUABLE:
                found.append(Missing(year, row.reason, row.gifts, row.amount_cents))
    return found


def panel(user) -> dict:
    return {"receipts_due": due(), "receipts_missing": missing(), "recent_days": RECENT_DAYS}
