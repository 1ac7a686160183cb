"""Test databases: SQLite files by default, PostgreSQL when LEGAMI_TEST_DATABASE_URL is set."""

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("LEGAMI_TEST_DATABASE_URL", "")


def engine_name() -> str:
    return "postgresql" if PG_URL else "sqlite"


@contextmanager
def fresh_database(folder: Path):
    """An empty database for one use, removed afterwards; yields its SQLAlchemy URL."""
    if not PG_URL:
        yield f"sqlite:///{folder / f'legami-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    base = make_url(PG_URL)
    name = f"legami_test_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
