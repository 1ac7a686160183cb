"""Reading the outbox folder, for staff to see what Legami would have sent."""

from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from mailing.transport import outbox_path


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    subject: str
    to: str
    sent_at: datetime


def _read(path: Path) -> EmailMessage:
    with path.open("rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)


def list_messages(limit: int = 200) -> list[OutboxEntry]:
    folder = outbox_path()
    if not folder.exists():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    entries = []
    for path in paths:
        headers = _read(path)
        entries.append(
            OutboxEntry(
                name=path.name,
                subject=str(headers.get("Subject", "")),
                to=str(headers.get("To", "")),
                sent_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
            )
        )
    return entries


def read_message(name: str) -> EmailMessage | None:
    path = outbox_path() / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        return None
    return _read(path)
