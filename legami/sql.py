"""Statements the two engines spell differently."""

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from legami.extensions import db


def upsert_insert(table):
    """INSERT with ON CONFLICT clauses, for the engine in use (SQLite or PostgreSQL)."""
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else postgresql_insert
    return insert(table)
