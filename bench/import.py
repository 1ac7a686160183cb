"""Donor import at scale: a Mailchimp audience export of subscribed members (its published
columns, UTF-8, times in UTC) of 5,000 and 50,000 rows, checked (the dry run) and imported,
on PostgreSQL.

    python bench/import.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/legami_bench python bench/import.py

Without DATABASE_URL it creates a database on 127.0.0.1 (user postgres) for each size and
drops it afterwards; with it, the database must exist: it is migrated and its donor tables
are emptied before each size (do not point it at real data).

The file: Italian names (a few in capitals, some with accents), addresses in Mailchimp's
one-cell form, phones, opt-in and confirmation times and IPs, tags, about 1% of members
known by their address alone, 0.5% repeated addresses differing in case. Each phase runs in
a process of its own (the dry run of a fresh upload, then the real run of that checked job)
and reports its seconds and peak RSS (ru_maxrss), so the two sizes compare like for like.

Not a test: it exits 0 even when short of the targets, non-zero only when a run fails or
the import's counts differ from the dry run's. The last line is the headline: the real
run's rows per second over the dry run's at 50,000 rows (target >= 0.5); the line before it
compares the real run's peak RSS at 50,000 and 5,000 rows (target <= 1.3).
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import instance

SIZES = (5_000, 50_000)
TARGET_RATIO = 0.5
TARGET_RSS = 1.3
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HEADER = [
    "Email Address",
    "First Name",
    "Last Name",
    "Address",
    "Phone Number",
    "MEMBER_RATING",
    "OPTIN_TIME",
    "OPTIN_IP",
    "CONFIRM_TIME",
    "CONFIRM_IP",
    "LATITUDE",
    "LONGITUDE",
    "GMTOFF",
    "DSTOFF",
    "TIMEZONE",
    "CC",
    "REGION",
    "LAST_CHANGED",
    "LEID",
    "EUID",
    "NOTES",
    "TAGS",
]
FIRST = [
    "Maria",
    "Anna",
    "Giulia",
    "Chiara",
    "Sara",
    "Nicolò",
    "Luca",
    "Marco",
    "Paolo",
    "Francesca",
    "Niccolò",
    "Bénédicte",
]
LAST = [
    "Rossi",
    "Bianchi",
    "Ferri",
    "Colombo",
    "Galli",
    "Foà",
    "Neri",
    "Verdi",
    "Dell'Acqua",
    "Sala",
    "Conti",
    "Riva",
]
TOWNS = [("Cremona", "CR", "26100"), ("Crema", "CR", "26013"), ("Forlì", "FC", "47121")]
TAGS = ['"Donatori 2023"', '"Volontari"', '"Soci"', '"Donatori 2023","Volontari"', ""]


def write_file(path: Path, rows: int) -> None:
    """A subscribed-members export of `rows` data rows, reproducibly random."""
    rng = random.Random(rows)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(HEADER)
        previous = ""
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}.{n}@example.it".lower().replace("'", "")
            if rng.random() < 0.005 and previous:  # the row before again, in capitals
                email = previous.upper()
            previous = email
            if rng.random() < 0.01:
                first = last = ""  # known by the address alone
            town, province, cap = rng.choice(TOWNS)
            address = f"Via Roma {n % 200 + 1}  {town}  {province}  {cap}  IT" if last else ""
            optin = start + timedelta(minutes=rng.randrange(3_000_000))
            confirm = optin + timedelta(minutes=5)
            writer.writerow(
                [
                    email.upper() if rng.random() < 0.02 else email,
                    first.upper() if rng.random() < 0.02 else first,
                    last,
                    address,
                    f"+39 3{rng.randrange(10**8, 10**9)}" if rng.random() < 0.5 else "",
                    rng.randrange(1, 6),
                    optin.strftime("%Y-%m-%d %H:%M:%S"),
                    f"93.41.{n % 250}.{n % 7 + 1}",
                    confirm.strftime("%Y-%m-%d %H:%M:%S"),
                    f"93.41.{n % 250}.{n % 7 + 2}",
                    "45.13",
                    "10.02",
                    "1",
                    "2",
                    "Europe/Rome",
                    "IT",
                    "LO",
                    "2024-05-02 10:00:00",
                    str(100_000 + n),
                    uuid.UUID(int=n).hex[:10],
                    "",
                    rng.choice(TAGS),
                ]
            )


def migrate() -> None:
    """Bring the database to the current schema and empty what an import writes."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from legami import create_app
    from legami.extensions import db

    with create_app().app_context():
        upgrade()
        tables = "import_rows, import_jobs, consent_events, donor_changes, donor_tags, tags"
        db.session.execute(
            text(f"TRUNCATE {tables}, donor_emails, suppressions, donors RESTART IDENTITY CASCADE")
        )
        db.session.commit()


def _result(seconds: float, job) -> None:
    print(
        json.dumps(
            {
                "job": job.id,
                "seconds": seconds,
                "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "counts": [job.created, job.updated, job.skipped, job.rejected],
            }
        )
    )


def dry_run(path: str) -> None:
    """Upload and map the file, then time the dry run."""
    from donors import importing
    from legami import create_app
    from legami.extensions import db

    with create_app().app_context():
        with open(path, "rb") as upload:
            job = importing.create_job(Path(path).name, upload, "mailchimp", None)
        db.session.commit()
        started = time.perf_counter()
        job = importing.check(job.id)
        _result(time.perf_counter() - started, job)


def real_run(job_id: int) -> None:
    """Time the real run of the checked job."""
    from donors import importing
    from legami import create_app

    with create_app().app_context():
        importing.claim(job_id)
        started = time.perf_counter()
        job = importing.run(job_id)
        _result(time.perf_counter() - started, job)


def child(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"bench/import.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}


@contextmanager
def database(given: str | None):
    """DATABASE_URL as given, or a fresh database on 127.0.0.1, dropped afterwards."""
    if given:
        yield given
        return
    import psycopg

    name = f"legami_bench_import_{uuid.uuid4().hex[:8]}"
    admin = SERVER.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(size: int, given: str | None) -> dict:
    with database(given) as url, instance({"DATABASE_URL": url}) as (folder, env):
        path = Path(folder) / f"subscribed_members_export_{size}.csv"
        write_file(path, size)
        child(env, "--migrate")
        dry = child(env, "--dry-run", str(path))
        real = child(env, "--run", str(dry["job"]))
    if dry["counts"] != real["counts"]:
        sys.exit(f"{size} rows: the dry run said {dry['counts']}, the import did {real['counts']}")
    return {"dry": dry, "real": real}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.migrate:
        return migrate()
    if args.dry_run:
        return dry_run(args.dry_run)
    if args.run:
        return real_run(args.run)

    given = os.environ.get("DATABASE_URL")
    if given and not given.startswith("postgresql"):
        sys.exit("bench/import.py runs on PostgreSQL: DATABASE_URL=postgresql+psycopg://...")
    results = {size: measure(size, given) for size in SIZES}
    print(
        "Mailchimp subscribed-members export, PostgreSQL"
        f" ({'DATABASE_URL' if given else 'a fresh database on 127.0.0.1'})"
    )
    for size in SIZES:
        dry, real = results[size]["dry"], results[size]["real"]
        created, updated, skipped, rejected = real["counts"]
        print(
            f"{size:>6,} rows: dry run {size / dry['seconds']:7.0f} rows/s, "
            f"import {size / real['seconds']:7.0f} rows/s "
            f"({created} created, {updated} updated, {skipped} skipped, {rejected} rejected)"
        )
        print(
            f"{size:>6,} rows: peak RSS dry run {dry['rss_kib'] / 1024:6.1f} MiB, "
            f"import {real['rss_kib'] / 1024:6.1f} MiB"
        )
    small, large = results[SIZES[0]], results[SIZES[-1]]
    rss = large["real"]["rss_kib"] / small["real"]["rss_kib"]
    ratio = large["dry"]["seconds"] / large["real"]["seconds"]
    print(f"import peak RSS {SIZES[-1]:,} vs {SIZES[0]:,}: {rss:.2f} (target <= {TARGET_RSS})")
    print(f"import vs dry run: {ratio:.2f} (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
