"""The real run writes set-based: a fixed number of statements per batch of rows, however
many rows the batch holds, and exactly what the dry run said; a donor created by someone
else while a batch is being written makes the batch be planned again, not fail."""

import io

import pytest
from sqlalchemy import event, func, insert, select, text

from donors import importing
from donors.models import ConsentEvent, Donor, DonorChange, ImportRow, donor_tags
from legami.extensions import db
from tests import factories


def _file(rows: int, offset: int = 0) -> bytes:
    lines = ["E-mail;Nome;Cognome;Telefono;Tag;Newsletter;Data consenso"]
    lines += [
        f"p{n}@example.it;Nome{n};Cognome{n};0372 {100000 + n};Soci, Gruppo {n % 3};sì;"
        f"01/02/2024 10:{n % 60:02d}"
        for n in range(offset, offset + rows)
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _statements(data: bytes) -> tuple[int, importing.ImportJob]:
    job = importing.create_job("soci.csv", io.BytesIO(data), "generic", None)
    db.session.commit()
    importing.check(job.id)
    assert importing.claim(job.id)
    count = 0

    def counted(*_):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        done = importing.run(job.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count, done


def test_statements_per_batch_do_not_grow_with_its_rows(app, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 400)
    small, done_small = _statements(_file(40))  # one batch of 40 new donors
    assert done_small.created == 40
    # Half of these update the donors above (a new phone), half are new: one batch of 400.
    big, done_big = _statements(_file(400, offset=20).replace(b"0372 1", b"0372 9", 20))
    assert (done_big.created, done_big.updated) == (380, 20)
    assert big <= small + 10, (small, big)
    assert big < 40
    assert db.session.scalar(select(func.count()).select_from(Donor)) == 420
    assert db.session.scalar(select(func.count()).select_from(donor_tags)) == 420 * 2
    assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 420
    changes = db.session.scalars(select(DonorChange.field)).all()
    assert sorted(set(changes)) == ["phone"] and len(changes) == 20
    updated = db.session.scalar(select(Donor).where(Donor.email == "p20@example.it"))
    assert (updated.phone, updated.phone_key, updated.first_name) == (
        "0372 900020",
        "+390372900020",
        "Nome20",
    )


@pytest.mark.postgres
def test_a_donor_created_meanwhile_is_updated_not_a_failure(app, monkeypatch):
    """Another transaction creates one of the batch's new donors (a gift, say) after the
    batch was planned: the insert meets the unique address, the batch is planned again and
    that row becomes an update."""
    monkeypatch.setattr(importing, "BATCH_SIZE", 10)
    job = importing.create_job("soci.csv", io.BytesIO(_file(10)), "generic", None)
    db.session.commit()
    importing.check(job.id)
    assert importing.claim(job.id)
    other = db.engine.connect()
    raced = []

    def meanwhile(conn, cursor, statement, *_):
        # The batch is planned; its writes start in a savepoint.
        if not raced and statement.startswith("SAVEPOINT"):
            raced.append(True)
            other.execute(
                insert(Donor.__table__).values(
                    email="p3@example.it",
                    kind="person",
                    first_name="Gift",
                    last_name="Giver",
                    source="campaign",
                )
            )
            other.commit()

    event.listen(db.engine, "before_cursor_execute", meanwhile)
    try:
        done = importing.run(job.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", meanwhile)
        other.close()
    assert raced and (done.status, done.created, done.updated) == ("done", 9, 1)
    row = db.session.scalar(
        select(ImportRow).where(ImportRow.dry_run.is_(False), ImportRow.email == "p3@example.it")
    )
    assert row.outcome == "update" and row.reason.startswith("changes:first_name,last_name")
    giver = db.session.scalar(select(Donor).where(Donor.email == "p3@example.it"))
    assert (giver.first_name, giver.source) == ("Nome3", "campaign")
    assert db.session.execute(text("SELECT count(*) FROM donors")).scalar() == 10


def test_the_run_after_a_change_still_does_what_the_dry_run_said(app):
    factories.donor(email="p1@example.it", first_name="Nome1", last_name="Cognome1")
    job = importing.create_job("soci.csv", io.BytesIO(_file(5)), "generic", None)
    db.session.commit()
    importing.check(job.id)
    assert importing.claim(job.id)
    importing.run(job.id)
    rows = {
        (r.dry_run, r.row_number): (r.outcome, r.reason)
        for r in db.session.scalars(select(ImportRow))
    }
    assert {n: rows[(False, n)] for n in range(2, 7)} == {n: rows[(True, n)] for n in range(2, 7)}
    assert rows[(False, 3)] == ("update", "changes:phone,tags; consent")
