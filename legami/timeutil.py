"""Times are stored in UTC and shown in Europe/Rome."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

ROME = ZoneInfo("Europe/Rome")


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_rome() -> date:
    return datetime.now(ROME).date()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on both engines (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
