"""The audit log of the treasurer's and staff's sensitive actions."""

from legami.extensions import db
from legami.models import AuditEntry, User


def record(user: User | None, action: str, target: str = "", **detail) -> AuditEntry:
    """Add an entry to the current transaction: it commits (or not) with the action itself."""
    entry = AuditEntry(user=user, action=action, target=target, detail=detail)
    db.session.add(entry)
    return entry


def record_update(user: User | None, action: str, target: str, row, clean: dict) -> AuditEntry:
    """Set the row's fields to `clean` and record which changed, as [old, new]."""
    changes = {key: [getattr(row, key), value] for key, value in clean.items()}
    changes = {key: pair for key, pair in changes.items() if pair[0] != pair[1]}
    for key, value in clean.items():
        setattr(row, key, value)
    return record(user, action, target, changes=changes)
