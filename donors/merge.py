"""Merge two donor records into one, in one transaction, and record what was done.

Every row that refers to the merged donor moves to the survivor. The tables are found by
walking the metadata for foreign keys to `donors.id`, so tables added later (receipts,
newsletter deliveries) move too without a change here. Where a unique key holds the donor
column (an association table such as `donor_tags`), a row the survivor already has is
dropped instead of moved. Tables derived from others (`info={"derived": True}`: the
per-year giving totals) are not moved: the survivor's are recomputed, the merged donor's
go with it.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Table, UniqueConstraint, delete, exists, func, select, update

from donors.giving_figures import rebuild_for
from donors.models import (
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    Donor,
    DonorChange,
    DonorEmail,
    DonorKind,
    DonorMerge,
)
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.validation import Invalid

# The fields staff pick between, in the order the merge screen shows them.
FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "email",
    "phone",
    "codice_fiscale",
    "partita_iva",
    "street",
    "postal_code",
    "town",
    "province",
    "country",
    "language",
    "source",
    "source_detail",
)


def references() -> list[tuple[Table, Column]]:
    """Every (table, column) holding a foreign key to `donors.id`."""
    target = Donor.__table__.c.id
    return [
        (table, fk.parent)
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column is target
    ]


def _movable() -> list[tuple[Table, Column]]:
    return [(table, column) for table, column in references() if not table.info.get("derived")]


def reference_counts(donor_id: int) -> dict[str, int]:
    """Rows per table that refer to the donor (those a merge would move), non-zero only."""
    counts: dict[str, int] = {}
    for table, column in _movable():
        n = db.session.scalar(select(func.count()).select_from(table).where(column == donor_id))
        if n:
            counts[table.name] = counts.get(table.name, 0) + n
    return counts


def differing_fields(a: Donor, b: Donor) -> list[str]:
    return [f for f in FIELDS if (getattr(a, f) or "") != (getattr(b, f) or "")]


def merge(survivor_id: int, merged_id: int, picks: dict[str, int], user: User | None) -> DonorMerge:
    """Fold donor `merged_id` into `survivor_id`; `picks` names, per field, the donor whose
    value survives (the survivor's where a field is not named). The caller commits."""
    if survivor_id == merged_id:
        raise Invalid({"survivor": _l("Choose two different donors.")})
    locked = db.session.scalars(
        select(Donor)
        .where(Donor.id.in_((survivor_id, merged_id)))
        .order_by(Donor.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {d.id: d for d in locked}
    if len(by_id) != 2 or any(d.is_erased for d in locked):
        raise Invalid({"survivor": _l("Both donors must exist and not be forgotten.")})
    survivor, merged = by_id[survivor_id], by_id[merged_id]

    values = _chosen_values(survivor, merged, picks)
    snapshot = _snapshot(merged)
    other_address = merged.email if values["email"] == survivor.email else survivor.email
    notes = "\n\n".join(n for n in (survivor.notes.strip(), merged.notes.strip()) if n)
    opt_out = survivor.report_back_opt_out or merged.report_back_opt_out
    consent = survivor.newsletter_consent or merged.newsletter_consent
    created_at = min(survivor.created_at, merged.created_at)

    db.session.flush()
    moved: dict[str, int] = {}
    for table, column in _movable():
        n = _move(table, column, merged_id, survivor_id)
        if n:
            moved[table.name] = moved.get(table.name, 0) + n
    rebuild_for(survivor_id)
    db.session.expunge(merged)
    db.session.execute(delete(Donor).where(Donor.id == merged_id))
    db.session.expire_all()

    source = f"merge of donor {merged_id}"
    for field, value in values.items():
        old = getattr(survivor, field)
        if value != old:
            survivor.changes.append(
                DonorChange(field=field, old_value=old or "", new_value=value or "", source=source)
            )
            setattr(survivor, field, value)
    survivor.notes = notes
    survivor.created_at = created_at
    survivor.newsletter_consent = _latest_says(survivor_id, ConsentPurpose.NEWSLETTER, consent)
    survivor.report_back_opt_out = not _latest_says(
        survivor_id, ConsentPurpose.REPORT_BACK, not opt_out
    )
    _keep_addresses(survivor, other_address)

    record = DonorMerge(
        survivor_id=survivor_id,
        merged_donor_id=merged_id,
        snapshot=snapshot,
        choices={"survivor": survivor_id, **{f: picks[f] for f in FIELDS if f in picks}},
        moved=moved,
        merged_by_id=user.id if user else None,
    )
    db.session.add(record)
    audit.record(user, "donor.merge", f"donor:{survivor_id}", merged=merged_id, moved=moved)
    db.session.flush()
    return record


def _chosen_values(survivor: Donor, merged: Donor, picks: dict[str, int]) -> dict:
    values = {}
    for field in FIELDS:
        source = picks.get(field, survivor.id)
        if source not in (survivor.id, merged.id):
            raise Invalid({field: _l("Pick one of the two donors.")})
        values[field] = getattr(survivor if source == survivor.id else merged, field)
    if values["kind"] == DonorKind.PERSON and not values["last_name"]:
        raise Invalid({"last_name": _l("A person needs a last name.")})
    if values["kind"] == DonorKind.ORGANISATION and not values["organisation_name"]:
        raise Invalid({"organisation_name": _l("An organisation needs its name.")})
    return values


def _move(table: Table, column: Column, merged_id: int, survivor_id: int) -> int:
    """Point the merged donor's rows at the survivor; returns how many moved."""
    for key in _unique_keys(table, column):
        theirs = table.alias()
        clash = exists().where(
            theirs.c[column.name] == survivor_id,
            *(theirs.c[c.name] == c for c in key if c is not column),
        )
        db.session.execute(delete(table).where(column == merged_id, clash))
    result = db.session.execute(
        update(table).where(column == merged_id).values({column.name: survivor_id})
    )
    return result.rowcount


def _unique_keys(table: Table, column: Column) -> list[list[Column]]:
    keys = [list(table.primary_key.columns)]
    keys += [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    keys += [list(i.columns) for i in table.indexes if i.unique]
    return [key for key in keys if any(c is column for c in key)]


def _latest_says(donor_id: int, purpose: ConsentPurpose, otherwise: bool) -> bool:
    """Granted (True) or withdrawn (False) by the latest such event; `otherwise` if none."""
    action = db.session.scalar(
        select(ConsentEvent.action)
        .where(
            ConsentEvent.donor_id == donor_id,
            ConsentEvent.purpose == purpose,
            ConsentEvent.action.in_((ConsentAction.GRANTED, ConsentAction.WITHDRAWN)),
        )
        .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        .limit(1)
    )
    return otherwise if action is None else action == ConsentAction.GRANTED


def _keep_addresses(survivor: Donor, other_address: str) -> None:
    """The primary address not chosen becomes a further one; none repeats the primary."""
    db.session.execute(
        delete(DonorEmail).where(
            DonorEmail.donor_id == survivor.id, DonorEmail.email == survivor.email
        )
    )
    known = db.session.scalar(select(exists().where(DonorEmail.email == other_address)))
    if not known and other_address != survivor.email:
        db.session.add(DonorEmail(donor_id=survivor.id, email=other_address))


def _snapshot(donor: Donor) -> dict:
    """The donor as it was: every column, its further addresses and tags, JSON-ready."""
    data = {c.key: _plain(getattr(donor, c.key)) for c in Donor.__mapper__.column_attrs}
    data["emails"] = [e.email for e in donor.emails]
    data["tags"] = [t.name for t in donor.tags]
    return data


def _plain(value):
    return value.isoformat() if isinstance(value, date | datetime) else value
