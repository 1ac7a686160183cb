"""Donor import from CSV or XLSX: keep the upload, map its columns, check every row (the dry
run), then apply it in batches, one transaction each.

The file is streamed (`donors.import_files`) and read BATCH_SIZE rows at a time: each batch
is parsed (`donors.import_rows`), looked up in a few queries and planned row by row
(`donors.import_plan`); the dry run stores what each row would do, the real run writes it
set-based (`donors.import_write`) and stores what it did. Memory stays flat whatever the
size of the file: only one batch and the addresses met so far are held. A batch that meets
a donor created meanwhile by someone else (a gift, a sign-up) is planned again and retried.
"""

import shutil
import uuid
from collections import ChainMap, Counter
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from donors import import_write
from donors.import_files import UnreadableFile, read_file
from donors.import_plan import Lookup, plan_row
from donors.import_presets import (
    PRESETS,
    REPEATABLE,
    ROW_STATUSES,
    TARGETS,
    TIMEZONES,
    detect_preset,
    initial_mapping,
)
from donors.import_rows import parse_row
from donors.models import ImportJob, ImportOutcome, ImportRow, ImportStatus
from legami import audit, jobs
from legami.extensions import db
from legami.models import User
from legami.sql import bulk_insert, plan_each_statement
from legami.timeutil import now_utc
from legami.validation import Invalid

BATCH_SIZE = 500
SUFFIXES = (".csv", ".txt", ".xlsx")
RETRIES = 3


def stored_file(job: ImportJob) -> Path:
    return Path(current_app.instance_path) / job.stored_path


def create_job(filename: str, upload: BinaryIO, preset: str, user_id: int | None) -> ImportJob:
    """Keep the upload (a binary stream, copied in chunks) under instance/imports/ and
    propose a mapping from the preset."""
    name = Path(filename.replace("\\", "/")).name or "import.csv"
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise Invalid({"file": _l("Upload a CSV or XLSX file.")})
    if preset not in PRESETS:
        raise Invalid({"preset": _l("Choose a preset.")})
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}{suffix}"
    path = folder / stored
    with path.open("wb") as target:
        shutil.copyfileobj(upload, target)
    try:
        headers, rows = read_file(path)
        total = sum(1 for _ in rows)
    except UnreadableFile as exc:
        path.unlink()
        raise Invalid(
            {"file": _l("This file cannot be read as CSV (UTF-8, UTF-16 or Windows-1252) or XLSX.")}
        ) from exc
    if not headers:
        path.unlink()
        raise Invalid({"file": _l("The file is empty.")})
    job = ImportJob(
        filename=name[:255],
        stored_path=f"imports/{stored}",
        preset=detect_preset(headers, preset),
        mapping=initial_mapping(headers, preset),
        total_rows=total,
        created_by_id=user_id,
    )
    db.session.add(job)
    db.session.flush()
    return job


def preview(job: ImportJob, samples: int = 3) -> list[tuple[str, list[str]]]:
    """Each column's header with its first few values, for the mapping page."""
    headers, rows = read_file(stored_file(job))
    first = [cells for _, cells in islice(rows, samples)]
    return [
        (header, [row[i].strip() for row in first if i < len(row) and row[i].strip()])
        for i, header in enumerate(headers)
    ]


def set_mapping(job: ImportJob, mapping: dict) -> None:
    """Check and keep a mapping; a dry run made with another mapping is dropped."""
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED):
        raise Invalid({"mapping": _l("This import has already run.")})
    headers, _ = read_file(stored_file(job))
    columns = list(mapping.get("columns", []))
    if len(columns) != len(headers) or any(c not in TARGETS for c in columns):
        raise Invalid({"mapping": _l("Choose what each column holds.")})
    if "email" not in columns:
        raise Invalid({"mapping": _l("One column must hold the e-mail address.")})
    repeated = sorted({c for c in columns if columns.count(c) > 1} - REPEATABLE)
    if repeated:
        fields = LazyString(lambda: ", ".join(str(TARGETS[c]) for c in repeated))
        raise Invalid({"mapping": _l("Only one column can hold: %(fields)s.", fields=fields)})
    if mapping.get("status") not in ROW_STATUSES:
        raise Invalid({"status": _l("Choose what the rows of the file are.")})
    if mapping.get("timezone") not in TIMEZONES:
        raise Invalid({"mapping": _l("Choose the time zone of the file's times.")})
    job.mapping = {
        "columns": columns,
        "status": mapping["status"],
        "timezone": mapping["timezone"],
    }
    job.status = ImportStatus.UPLOADED
    db.session.execute(delete(ImportRow).where(ImportRow.job_id == job.id, ImportRow.dry_run))


# Runs -----------------------------------------------------------------------------------------


def _batches(rows, size: int):
    while batch := list(islice(rows, size)):
        yield batch


def _plan(parsed, seen: dict[str, int]):
    """Plan a batch against the database as it is now; the addresses it meets are noted in
    a layer of `seen` that the caller keeps only once the batch is written."""
    plan_each_statement()  # the batch's statements repeat while their tables fill
    lookup = Lookup.fetch({p.email for _, p in parsed if p.email and not p.problems})
    layer = ChainMap({}, seen)
    plans = [(number, plan_row(number, row, lookup, layer), row) for number, row in parsed]
    return plans, lookup, layer.maps[0]


def _write(parsed, seen, context) -> tuple[list, dict[str, int]]:
    """Plan and write a batch in a savepoint; planned again if a donor it would create
    appeared meanwhile (a unique address taken), up to RETRIES times."""
    attempts = 0
    while True:
        plans, lookup, noted = _plan(parsed, seen)
        try:
            with db.session.begin_nested():
                rows = [(plan, row) for _, plan, row in plans]
                created = import_write.write(rows, lookup.tags, context)
        except IntegrityError:
            attempts += 1
            if attempts == RETRIES:
                raise
            continue
        seen.update(noted)
        return plans, created


def _process(job: ImportJob, dry_run: bool, progress: Callable[[int], None] | None) -> None:
    db.session.execute(
        delete(ImportRow).where(ImportRow.job_id == job.id, ImportRow.dry_run == dry_run)
    )
    job.processed_rows = job.created = job.updated = job.skipped = job.rejected = 0
    job.error = ""
    db.session.commit()
    _, rows = read_file(stored_file(job))
    mapping = dict(job.mapping)
    seen: dict[str, int] = {}
    context = None
    if not dry_run:
        context = import_write.Context(job.id, job.filename, job.created_by_id, import_write.Tags())
    for batch in _batches(rows, BATCH_SIZE):
        parsed = [(number, parse_row(cells, mapping)) for number, cells in batch]
        if dry_run:
            plans, _, noted = _plan(parsed, seen)
            seen.update(noted)
            created = {}
        else:
            plans, created = _write(parsed, seen, context)
        counts = Counter(plan.outcome for _, plan, _ in plans)
        records = [
            {
                "job_id": job.id,
                "dry_run": dry_run,
                "row_number": number,
                "outcome": plan.outcome,
                "reason": "; ".join(plan.reasons)[:300],
                "email": plan.email[:254],
                "donor_id": plan.donor.id if plan.donor is not None else created.get(plan.email),
            }
            for number, plan, _ in plans
        ]
        bulk_insert(ImportRow.__table__, records)
        job.processed_rows += len(batch)
        job.created += counts[ImportOutcome.CREATE]
        job.updated += counts[ImportOutcome.UPDATE]
        job.skipped += counts[ImportOutcome.SKIP]
        job.rejected += counts[ImportOutcome.REJECT]
        db.session.commit()
        if progress:
            progress(len(batch))


def _guarded(job_id: int, dry_run: bool, progress) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    try:
        _process(job, dry_run, progress)
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status = ImportStatus.FAILED
        job.error = str(exc)[:2000] or exc.__class__.__name__
        job.finished_at = now_utc()
        db.session.commit()
        raise
    return job


def check(job_id: int, progress: Callable[[int], None] | None = None) -> ImportJob:
    """The dry run: every row's outcome and reasons, stored as ImportRow(dry_run=True); no
    donor is touched."""
    job = db.session.get(ImportJob, job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED):
        raise Invalid({"status": _l("This import has already run.")})
    job = _guarded(job_id, True, progress)
    job.status = ImportStatus.CHECKED
    db.session.commit()
    return job


def claim(job_id: int) -> bool:
    """Mark the job running, unless it runs or ran already (a second click does nothing)."""
    claimed = db.session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            ImportJob.status.in_(
                [ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED]
            ),
        )
        .values(status=ImportStatus.RUNNING, finished_at=None)
    )
    db.session.commit()
    return claimed.rowcount == 1


def run(job_id: int, progress: Callable[[int], None] | None = None) -> ImportJob:
    """The real run of a claimed job: one transaction per batch of rows."""
    job = _guarded(job_id, False, progress)
    job.status = ImportStatus.DONE
    job.finished_at = now_utc()
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    audit.record(
        user,
        "donors.import",
        f"import_job:{job.id}",
        filename=job.filename,
        created=job.created,
        updated=job.updated,
        skipped=job.skipped,
        rejected=job.rejected,
    )
    db.session.commit()
    return job


JOB_KIND = "donors.import"


def start_run(job_id: int, user_id: int | None) -> bool:
    """Claim the import and queue its real run for a worker (committed); False when it runs
    or ran already."""
    if not claim(job_id):
        return False
    jobs.enqueue(JOB_KIND, {"import_id": job_id}, started_by_id=user_id)
    db.session.commit()
    return True


def run_job(running: jobs.RunningJob) -> dict:
    """The worker's side: run the import, reporting rows done (which renews the lease). A run
    taken over after its worker died, or retried after an error, starts the file again:
    rows already written match their donors and change nothing twice."""
    import_id = running.parameters["import_id"]
    job = db.session.get(ImportJob, import_id)
    if job.status != ImportStatus.DONE:
        claim(import_id)  # a retry after an error: the import shows it runs again
        total, done = job.total_rows, 0

        def progress(rows: int) -> None:
            nonlocal done
            done += rows
            running.progress(done, total)

        job = run(import_id, progress)
    return {
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "rejected": job.rejected,
    }


def outcome_counts(job_id: int, dry_run: bool) -> dict[str, int]:
    counts = dict(
        db.session.execute(
            select(ImportRow.outcome, func.count())
            .where(ImportRow.job_id == job_id, ImportRow.dry_run == dry_run)
            .group_by(ImportRow.outcome)
        ).all()
    )
    return {outcome.value: counts.get(outcome.value, 0) for outcome in ImportOutcome}


def rows_query(job_id: int, dry_run: bool, outcome: str | None):
    query = select(ImportRow).where(ImportRow.job_id == job_id, ImportRow.dry_run == dry_run)
    if outcome in set(ImportOutcome):
        query = query.where(ImportRow.outcome == outcome)
    return query.order_by(ImportRow.row_number)
