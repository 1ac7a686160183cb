"""The audit log of the treasurer's and staff's sensitive actions."""

from legami.extensions import db
from legami.models import AuditEntry, User


def record(user: User | None, action: str, target: str = "", **detail) -> AuditEntry:
    """Add an entry to the current transaction: it commits (or not) with the action itself."""
    entry = AuditEntry(user=user, action=action, target=target, detail=detail)
    db.session.add(entry)
    return entry
