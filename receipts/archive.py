"""The receipts' archive: write-once files under the instance folder, and their integrity.

A receipt PDF is written once and never replaced: the file is made complete and read-only
(mode 0444) under a temporary name, then hard-linked to its final name, which fails if
anything is already there; so no process, not even a second render of the same receipt,
can overwrite a stored file. Its SHA-256 is recorded on the receipt when it is written.

`check_all`, a scheduler job (`receipts.check_archive`, daily), reads every stored file
again and compares its SHA-256 with the recorded one. Each run is an ArchiveCheck row; a
file missing or changed is written to the audit log and listed for the treasurer on the
archive page until a later run finds the archive whole.
"""

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select

from legami import audit
from legami.extensions import db
from legami.timeutil import now_utc
from receipts.models import ArchiveCheck, Receipt

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
BATCH = 500
# The files a receipt may have: its column prefix, and how the archive page names it.
FILES = (("pdf", "original"), ("copy_pdf", "copy"), ("voided_pdf", "voided"))


class AlreadyStored(FileExistsError):
    """A different file already has this name: the archive never overwrites one."""


def root() -> Path:
    return Path(current_app.instance_path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_once(relative: str, data: bytes) -> None:
    """Store `data` at `relative` (under the instance folder), read-only. The same bytes
    already there are left as they are; different bytes raise AlreadyStored."""
    target = root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, READ_ONLY)
        try:
            os.link(temporary, target)  # never replaces an existing name, unlike rename
        except FileExistsError:
            if sha256(target.read_bytes()) != sha256(data):
                raise AlreadyStored(relative) from None
    finally:
        os.unlink(temporary)


def read(relative: str) -> bytes:
    return (root() / relative).read_bytes()


def discard(relative: str) -> None:
    """Remove a file that was written but never recorded on its receipt (a lost race)."""
    (root() / relative).unlink(missing_ok=True)


def _problem(relative: str, digest: str) -> str | None:
    try:
        data = (root() / relative).read_bytes()
    except OSError:
        return "missing"
    return "changed" if sha256(data) != digest else None


def check_all() -> ArchiveCheck:
    """Scheduler job: re-read every stored receipt PDF and compare its SHA-256 with the
    recorded one; record the run, and audit each file missing or changed. Commits."""
    started_at = now_utc()
    problems, files_checked, last_id = [], 0, 0
    columns = [Receipt.id, Receipt.display_number]
    for prefix, _ in FILES:
        columns += [getattr(Receipt, f"{prefix}_path"), getattr(Receipt, f"{prefix}_sha256")]
    stored = or_(*(getattr(Receipt, f"{prefix}_path").is_not(None) for prefix, _ in FILES))
    while True:
        batch = db.session.execute(
            select(*columns).where(stored, Receipt.id > last_id).order_by(Receipt.id).limit(BATCH)
        ).all()
        if not batch:
            break
        for receipt_id, number, *files in batch:
            for (_, name), relative, digest in zip(FILES, files[::2], files[1::2], strict=True):
                if relative is None:
                    continue
                files_checked += 1
                problem = _problem(relative, digest)
                if problem:
                    problems.append(
                        {
                            "receipt_id": receipt_id,
                            "number": number,
                            "file": name,
                            "path": relative,
                            "problem": problem,
                        }
                    )
        last_id = batch[-1][0]
    check = ArchiveCheck(
        started_at=started_at,
        finished_at=now_utc(),
        files_checked=files_checked,
        problems=problems,
    )
    db.session.add(check)
    for item in problems:
        audit.record(None, "receipts.archive.mismatch", f"receipt:{item['receipt_id']}", **item)
    db.session.commit()
    return check


def latest() -> ArchiveCheck | None:
    return db.session.scalar(
        select(ArchiveCheck)
        .where(ArchiveCheck.finished_at.is_not(None))
        .order_by(ArchiveCheck.started_at.desc(), ArchiveCheck.id.desc())
        .limit(1)
    )
