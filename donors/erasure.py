"""Forget a donor (GDPR art. 17): personal and profile data go, the accounting stays.

Gifts and issued receipts are accounting records kept ten years (art. 2220 c.c.): the gift
rows, their amounts and the campaign totals stay untouched. A receipt is an immutable
snapshot, so the donor row itself can be anonymised. The codice fiscale and partita IVA are
kept only while the donor has gifts inside the retention period, since the yearly file for
the pre-filled tax return (and the reporting of later refunds) needs them; without such
gifts they go too. Every address of the donor is kept only as a hashed suppression entry,
so an import cannot add it back.

Like the CRM's reporting, this module reaches into payments and mailing (the gifts'
dedications, unsent mail): erasure has to clear personal data wherever it lies. After the
known fields, a sweep makes sure no copy is left: every text and JSON column of every table
(free text in audit entries, import reports, merge snapshots, mail rows, tables added later)
has the person's e-mail addresses, full name, phone and tax identifiers replaced by
`[forgotten]`, and every file under the instance folder and the outbox (stored import
uploads, outbox mail, logs, exports) that names them loses those lines (CSV, text, logs) or
goes whole (mail, other files). Issued receipts, their PDFs and their annual ZIPs are kept:
they are accounting records, kept by law. On SQLite the old rows would stay in the
write-ahead log: once the erasure commits, the log is checkpointed into the database (whose
freed space `secure_delete` zeroes, see legami.extensions) and truncated.
"""

import json
import re
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, String, Text, Unicode, cast, delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from donors import consent
from donors.identity import normalise_email
from donors.models import (
    ConsentEvent,
    ConsentSource,
    Donor,
    DonorChange,
    DonorEmail,
    DonorKind,
    DonorMerge,
    DonorSuggestion,
    ImportRow,
    Interaction,
    PortalToken,
    Suppression,
    SuppressionReason,
    donor_tags,
    email_hash,
)
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from legami.validation import Invalid
from mailing.models import Delivery, DeliveryStatus, MailJob
from payments.models import Donation, GiftDetails, RecurringGift, RecurringStatus

LIVE_RECURRING = (RecurringStatus.INCOMPLETE, RecurringStatus.ACTIVE, RecurringStatus.PAST_DUE)
REDACTED = "[forgotten]"
# Accounting records kept by law (art. 2220 c.c.): the receipts as issued, and their files.
KEPT_TABLES = {"receipts"}
KEPT_FOLDERS = ("receipts",)
# Files of the instance folder that are not copies of personal data but the app's own.
KEPT_SUFFIXES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".db")
LINE_FILES = (".csv", ".txt", ".log", ".tsv")
# Text shorter than this is not searched for (a two-letter name would match everyone).
MIN_IDENTIFIER = 5
# Set in a session's info by `forget`: its commit checkpoints SQLite's write-ahead log.
CHECKPOINT = "erasure_checkpoint"


def placeholder_email(donor_id: int) -> str:
    """A unique address under the reserved `.invalid` domain: nothing can be sent to it."""
    return f"forgotten-{donor_id}@legami.invalid"


def placeholder_name(donor_id: int) -> str:
    return f"forgotten-{donor_id}"


def retention_start(today: date, years: int) -> date:
    """The same day `years` earlier (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def live_recurring_gifts(donor_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecurringGift)
        .where(RecurringGift.donor_id == donor_id, RecurringGift.status.in_(LIVE_RECURRING))
    )


def forget(donor_id: int, user: User | None, today: date, years: int, request: str = "") -> dict:
    """Anonymise the donor; returns what was removed, as counts. The caller commits.

    `today` and `years` decide whether the tax identifiers must stay (gifts received on or
    after `retention_start(today, years)`); `request` says how the donor asked.
    """
    donor = db.session.scalars(
        select(Donor)
        .where(Donor.id == donor_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if donor.is_erased:
        raise Invalid({"donor": _l("This donor was already forgotten.")})
    if live_recurring_gifts(donor_id):
        raise Invalid(
            {"donor": _l("Stop the donor's monthly gifts first: a forgotten donor cannot give.")}
        )

    addresses = {normalise_email(donor.email), *(normalise_email(e.email) for e in donor.emails)}
    identifiers = _identifiers(donor, addresses)
    for address in addresses:
        db.session.execute(
            upsert_insert(Suppression.__table__)
            .values(email_hash=email_hash(address), reason=SuppressionReason.ERASURE)
            .on_conflict_do_nothing(index_elements=["email_hash"])
        )

    consent.withdraw(donor, ConsentSource.ERASURE, user=user)
    consent.set_report_back(donor, True, ConsentSource.ERASURE, user=user)
    removed = {
        "emails": _delete(DonorEmail, DonorEmail.donor_id == donor_id),
        "tags": db.session.execute(
            delete(donor_tags).where(donor_tags.c.donor_id == donor_id)
        ).rowcount,
        "interactions": _delete(Interaction, Interaction.donor_id == donor_id),
        "changes": _delete(DonorChange, DonorChange.donor_id == donor_id),
        "portal_tokens": _delete(PortalToken, PortalToken.donor_id == donor_id),
        "suggestions": _delete(DonorSuggestion, DonorSuggestion.donor_id == donor_id),
        # What the donor typed on gift forms, kept with each gift (payments.giver_details).
        "gift_details": _delete(
            GiftDetails,
            or_(
                GiftDetails.donation_id.in_(
                    select(Donation.id).where(Donation.donor_id == donor_id)
                ),
                GiftDetails.recurring_gift_id.in_(
                    select(RecurringGift.id).where(RecurringGift.donor_id == donor_id)
                ),
            ),
        ),
        "unsent_mail": _delete(
            MailJob,
            MailJob.sent_at.is_(None),
            or_(
                MailJob.donor_id == donor_id,
                MailJob.donation_id.in_(select(Donation.id).where(Donation.donor_id == donor_id)),
            ),
        ),
    }
    # A newsletter still sending skips the donor; its report keeps the row, without the address.
    db.session.execute(
        update(Delivery)
        .where(Delivery.donor_id == donor_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, last_error="forgotten")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(Delivery.donor_id == donor_id)
        .values(email=placeholder_email(donor_id), first_name="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Donation)
        .where(Donation.donor_id == donor_id)
        .values(dedication="", show_name=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ConsentEvent)
        .where(ConsentEvent.donor_id == donor_id)
        .values(ip="", note="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ImportRow)
        .where(ImportRow.donor_id == donor_id)
        .values(email="")
        .execution_options(synchronize_session=False)
    )
    # A merge record holds the merged donor as it was: the same person's data.
    db.session.execute(
        update(DonorMerge)
        .where(DonorMerge.survivor_id == donor_id)
        .values(snapshot={})
        .execution_options(synchronize_session=False)
    )
    keeps_tax_ids = _has_gifts_since(donor_id, retention_start(today, years))
    db.session.expire_all()
    _anonymise(donor, keeps_tax_ids)
    db.session.flush()
    removed["redacted_values"] = _sweep_tables(identifiers, donor_id)
    removed["files"] = _sweep_files(identifiers)
    audit.record(
        user,
        "donor.erase",
        f"donor:{donor_id}",
        removed=removed,
        suppressed=len(addresses),
        kept_tax_ids=keeps_tax_ids,
        # Staff may have named the person in how they asked.
        request=_pattern(identifiers).sub(REDACTED, request) if identifiers else request,
    )
    db.session.flush()
    db.session.info[CHECKPOINT] = True
    return removed


@event.listens_for(Session, "after_commit")
def _checkpoint(session: Session) -> None:
    """After an erasure commits on SQLite, copy the write-ahead log into the database and
    truncate it, so that the old rows leave the disk."""
    if not session.info.pop(CHECKPOINT, False):
        return
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
    if busy:
        current_app.logger.warning("erasure: the SQLite log is busy; it empties at next checkpoint")


@event.listens_for(Session, "after_rollback")
def _no_checkpoint(session: Session) -> None:
    session.info.pop(CHECKPOINT, None)


def _delete(model, *where) -> int:
    return db.session.execute(
        delete(model).where(*where).execution_options(synchronize_session=False)
    ).rowcount


def _has_gifts_since(donor_id: int, start: date) -> bool:
    return db.session.scalar(
        select(
            select(Donation.id)
            .where(
                Donation.donor_id == donor_id,
                Donation.received_on >= start,
                Donation.succeeded_at.is_not(None),
            )
            .exists()
        )
    )


def _anonymise(donor: Donor, keeps_tax_ids: bool) -> None:
    name = placeholder_name(donor.id)
    donor.first_name = ""
    donor.last_name = name if donor.kind == DonorKind.PERSON else ""
    donor.organisation_name = name if donor.kind == DonorKind.ORGANISATION else ""
    donor.email = placeholder_email(donor.id)
    donor.phone = ""
    donor.street = donor.postal_code = donor.town = donor.province = ""
    donor.source_detail = ""
    donor.notes = ""
    if not keeps_tax_ids:
        donor.codice_fiscale = donor.partita_iva = None
    donor.erased_at = now_utc()


def _identifiers(donor: Donor, addresses: set[str]) -> list[str]:
    """What names the person anywhere: addresses, full name both ways, phone, tax ids."""
    found = set(addresses)
    first, last = donor.first_name.strip(), donor.last_name.strip()
    if first and last:
        found |= {f"{first} {last}", f"{last} {first}"}
    found.add(donor.organisation_name.strip())
    found.add(donor.phone.strip())
    found |= {donor.codice_fiscale or "", donor.partita_iva or ""}
    return sorted((i for i in found if len(i) >= MIN_IDENTIFIER), key=len, reverse=True)


def _pattern(identifiers: list[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(i) for i in identifiers), re.IGNORECASE)


def _redact(value, pattern: re.Pattern):
    """`value` (text, or JSON: dicts, lists, text) with every identifier replaced."""
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact(v, pattern) for v in value]
    if isinstance(value, dict):
        return {_redact(k, pattern): _redact(v, pattern) for k, v in value.items()}
    return value


def _sweep_tables(identifiers: list[str], donor_id: int) -> int:
    """Redact the identifiers from every text and JSON column but the kept tables' and the
    forgotten donor's own row (anonymised above, its tax ids kept when the law wants them)."""
    if not identifiers:
        return 0
    pattern = _pattern(identifiers)
    needles = [i.lower() for i in identifiers]
    # JSON is stored with non-ASCII escaped: search that spelling too.
    needles += [json.dumps(i.lower())[1:-1] for i in identifiers if not i.isascii()]
    changed = 0
    for table in db.metadata.sorted_tables:
        if table.name in KEPT_TABLES or not table.primary_key.columns:
            continue
        keys = list(table.primary_key.columns)
        for column in table.columns:
            is_json = isinstance(column.type, JSON)
            if not (is_json or isinstance(column.type, String | Text | Unicode)) or column.unique:
                continue
            text = func.lower(cast(column, Text) if is_json else column)
            where = [or_(*(text.contains(n, autoescape=True) for n in needles))]
            if table is Donor.__table__:
                where.append(table.c.id != donor_id)
            for row in db.session.execute(select(*keys, column).where(*where)).all():
                value = row[-1]
                clean = _redact(value, pattern)
                if clean != value:
                    match = [key == row[n] for n, key in enumerate(keys)]
                    db.session.execute(update(table).where(*match).values({column.name: clean}))
                    changed += 1
    return changed


def _sweep_files(identifiers: list[str]) -> int:
    """Files under the instance folder and the outbox that name the person: lines removed
    from line-based files, other files (mail, spreadsheets, archives) deleted."""
    if not identifiers:
        return 0
    instance = Path(current_app.instance_path)
    roots = {instance, Path(current_app.config["OUTBOX_FOLDER"])}
    kept = [instance / folder for folder in KEPT_FOLDERS]
    needles = [
        n.lower()
        for i in identifiers
        for n in {i.encode("utf-8"), i.encode("cp1252", "ignore"), i.encode("utf-16-le")}
        if n
    ]
    touched = 0
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if (
                not path.is_file()
                or path.name.endswith(KEPT_SUFFIXES)
                or path.name == "secret_key"
                or any(path.is_relative_to(folder) for folder in kept)
            ):
                continue
            data = path.read_bytes()
            if not any(n in data.lower() for n in needles):
                continue
            if path.suffix.lower() in LINE_FILES:
                lines = data.splitlines(keepends=True)
                path.write_bytes(
                    b"".join(line for line in lines if not any(n in line.lower() for n in needles))
                )
            else:
                path.unlink()
            touched += 1
    return touched
