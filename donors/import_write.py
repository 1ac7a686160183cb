"""The real run's writes for one batch of planned rows, set-based: a few statements per batch
whatever the number of rows. New donors are bulk-inserted (COPY on PostgreSQL) and their
ids read back by address; changed donors are updated by one executemany per set of changed
columns; their history, tags, consent events and suppressions are written in one statement
each. What is written is what the dry run said.

The donor's key columns (name, swapped name, town, mailbox and phone keys) are set here
with `derived_keys`, as the model's event would: Core statements bypass the ORM's events.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update

from donors import consent
from donors.import_plan import Plan
from donors.import_rows import DONOR_FIELDS, Parsed
from donors.models import (
    ConsentAction,
    ConsentPurpose,
    ConsentSource,
    Donor,
    DonorChange,
    DonorKind,
    DonorSource,
    ImportOutcome,
    Tag,
    derived_keys,
    donor_tags,
    fold,
)
from legami.extensions import db
from legami.sql import among, bulk_insert, upsert_insert
from legami.timeutil import now_utc

donors_table = Donor.__table__
DEFAULTS = {name: "" for name in DONOR_FIELDS} | {
    "kind": DonorKind.PERSON,
    "country": "IT",
    "language": "it",
    "codice_fiscale": None,
    "partita_iva": None,
}


class Tags:
    """Tag ids by folded name; a tag is created the first time a row needs it (the first
    spelling met is kept)."""

    def __init__(self):
        self.ids = {fold(name): id for id, name in db.session.execute(select(Tag.id, Tag.name))}

    def ids_for(self, names: list[str]) -> dict[str, int]:
        missing = {fold(n): n for n in names if fold(n) not in self.ids}
        if missing:
            db.session.execute(
                upsert_insert(Tag.__table__).on_conflict_do_nothing(index_elements=["name"]),
                [{"name": name} for name in missing.values()],
            )
            for id, name in db.session.execute(
                select(Tag.id, Tag.name).where(Tag.name.in_(list(missing.values())))
            ):
                self.ids[fold(name)] = id
        return {fold(n): self.ids[fold(n)] for n in names}


@dataclass
class Context:
    """What every write of a run shares."""

    job_id: int
    filename: str
    user_id: int | None
    tags: Tags

    @property
    def source(self) -> str:
        return f"import:{self.job_id}:{self.filename}"[:100]

    @property
    def note(self) -> str:
        return f"import: {self.filename}"


def _key_values(values: dict, email: str) -> dict:
    return derived_keys({**values, "email": email})


def _insert_donors(plans: list[Plan], context: Context, now: datetime) -> dict[str, int]:
    records = []
    for plan in plans:
        values = {**DEFAULTS, **plan.values}
        records.append(
            {
                **values,
                **_key_values(values, plan.email),
                "email": plan.email,
                "source": DonorSource.IMPORT,
                "source_detail": context.filename[:200],
                "notes": plan.note,
                # Planned against the suppressions read in this transaction.
                "newsletter_consent": plan.grant,
                "created_at": now,
                "updated_at": now,
            }
        )
    if not records:
        return {}
    # A bulk insert (COPY on PostgreSQL) and a read of the ids by address is several times
    # faster than one INSERT ... RETURNING of the whole batch.
    bulk_insert(donors_table, records)
    emails = [record["email"] for record in records]
    return dict(
        db.session.execute(
            select(donors_table.c.email, donors_table.c.id).where(
                among(donors_table.c.email, emails)
            )
        ).all()
    )


def _update_donors(plans: list[Plan], context: Context, now: datetime) -> list[dict]:
    """Set only what changed (the fields, the notes, the keys they feed): one executemany
    per set of changed columns; returns the history rows to add."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    changes = []
    for plan in plans:
        donor = plan.donor
        if not plan.values and not plan.note:
            continue
        changed = {name: (getattr(donor, name), new) for name, new in plan.values.items()}
        if plan.note:
            changed["notes"] = (donor.notes, f"{donor.notes}\n\n{plan.note}".strip())
        values = {name: getattr(donor, name) for name in DONOR_FIELDS} | plan.values
        keys = _key_values(values, donor.email)
        record = {name: new for name, (_, new) in changed.items()}
        record |= {key: value for key, value in keys.items() if value != getattr(donor, key)}
        groups.setdefault(tuple(sorted(record)), []).append(
            {**record, "updated_at": now, "donor_id": donor.id}
        )
        changes += [
            _change(donor.id, name, old, new, context, now) for name, (old, new) in changed.items()
        ]
    for columns, records in groups.items():
        db.session.execute(
            update(donors_table)
            .where(donors_table.c.id == bindparam("donor_id"))
            .values({name: bindparam(name) for name in (*columns, "updated_at")}),
            records,
            execution_options={"synchronize_session": False},
        )
    return changes


def _change(donor_id: int, name: str, old, new, context: Context, now: datetime) -> dict:
    return {
        "donor_id": donor_id,
        "field": name,
        "old_value": old or "",
        "new_value": new or "",
        "source": context.source,
        "changed_at": now,
    }


def _tag(rows: list[tuple[Plan, int]], known: dict[int, list[str]], context, now) -> list[dict]:
    """Link the rows' new tags; an updated donor's history records its tags before and
    after."""
    names = [name for plan, _ in rows for name in plan.new_tags]
    if not names:
        return []
    ids = context.tags.ids_for(names)
    links, changes = [], []
    for plan, donor_id in rows:
        if not plan.new_tags:
            continue
        links += [{"donor_id": donor_id, "tag_id": ids[fold(n)]} for n in plan.new_tags]
        if plan.outcome == ImportOutcome.UPDATE:
            before = known.get(donor_id, [])
            after = ", ".join([*before, *plan.new_tags])
            changes.append(_change(donor_id, "tags", ", ".join(before), after, context, now))
    bulk_insert(donor_tags, links)
    return changes


def _consent_event(donor_id: int, action: str, at: datetime, context: Context, **details):
    return {
        "donor_id": donor_id,
        "purpose": ConsentPurpose.NEWSLETTER,
        "action": action,
        "source": ConsentSource.IMPORT,
        "ip": details.get("ip", "")[:45],
        # The privacy notice the person saw was the old list's, not ours: its version is
        # unknown.
        "notice_version": "",
        "occurred_at": at,
        "confirmed_at": details.get("confirmed_at"),
        "user_id": context.user_id,
        "note": details.get("note", context.note)[:300],
    }


def _consent(rows: list[tuple[Plan, Parsed, int]], context: Context, now: datetime) -> None:
    """Grants dated as the file dates them (given at OPTIN_TIME or CONFIRM_TIME, confirmed at
    CONFIRM_TIME, from the confirming IP if known); withdrawals dated when the person
    unsubscribed; suppressions."""
    # New donors were inserted consenting; known ones get it unless suppressed meanwhile.
    known = [donor_id for plan, _, donor_id in rows if plan.grant and plan.donor is not None]
    granted = consent.grant_many(known)
    consent.withdraw_many([donor_id for plan, _, donor_id in rows if plan.withdraw])
    events = []
    for plan, parsed, donor_id in rows:
        if plan.grant and (plan.donor is None or donor_id in granted):
            events.append(
                _consent_event(
                    donor_id,
                    ConsentAction.GRANTED,
                    parsed.consent_time or parsed.confirm_time or now,
                    context,
                    ip=parsed.confirm_ip or parsed.consent_ip,
                    confirmed_at=parsed.confirm_time,
                )
            )
        if plan.withdraw:
            why = f"{context.note}: {parsed.status_note}" if parsed.status_note else context.note
            at = parsed.unsubscribed_at or now
            events.append(_consent_event(donor_id, ConsentAction.WITHDRAWN, at, context, note=why))
    consent.record_many(events)
    consent.suppress_many(
        [
            (plan.email, plan.suppress, parsed.unsubscribed_at or parsed.bounced_at or now)
            for plan, parsed, _ in rows
            if plan.suppress
        ]
    )


def write(batch: list[tuple[Plan, Parsed]], known_tags, context: Context) -> dict[str, int]:
    """Apply a batch's planned rows; returns the new donors' ids by address."""
    now = now_utc()
    created = _insert_donors(
        [plan for plan, _ in batch if plan.outcome == ImportOutcome.CREATE], context, now
    )
    updated = [plan for plan, _ in batch if plan.outcome == ImportOutcome.UPDATE]
    changes = _update_donors(updated, context, now)
    applied = [
        (plan, parsed, created[plan.email] if plan.donor is None else plan.donor.id)
        for plan, parsed in batch
        if plan.outcome in (ImportOutcome.CREATE, ImportOutcome.UPDATE)
    ]
    changes += _tag([(plan, donor_id) for plan, _, donor_id in applied], known_tags, context, now)
    bulk_insert(DonorChange.__table__, changes)
    _consent(applied, context, now)
    return created
