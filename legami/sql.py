"""Statements the two engines spell differently."""

from collections.abc import Iterable

import psycopg
from psycopg import sql
from sqlalchemy import ColumnElement, Table, any_, cast, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from legami.extensions import db


def upsert_insert(table):
    """INSERT with ON CONFLICT clauses, for the engine in use (SQLite or PostgreSQL)."""
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else postgresql_insert
    return insert(table)


def among(column, values: Iterable) -> ColumnElement[bool]:
    """`column IN (values)` for a batch of many values. On PostgreSQL one array parameter,
    `= ANY(:values)`: the statement stays the same whatever the count, and once psycopg
    prepares it the generic plan still probes the index, where a generic plan of a long IN
    list of parameters compares every row with every value. SQLite spells it IN."""
    values = list(values)
    if db.engine.dialect.name == "postgresql":
        return column == any_(cast(values, ARRAY(column.type)))
    return column.in_(values)


def plan_each_statement() -> None:
    """For the rest of this transaction, PostgreSQL plans each statement for its values
    (`plan_cache_mode = force_custom_plan`). Work that repeats one statement over batches
    of a table it is filling needs it: once psycopg prepares the statement, a generic plan
    made while the table looked empty compares every row with every value of `among`, and
    slows down as the table grows. SQLite: nothing to do."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def bulk_insert(table: Table, rows: list[dict]) -> None:
    """Insert many rows (dicts with the same keys, every column without a server default
    given) in the session's transaction. PostgreSQL: one COPY, a few times faster than an
    executemany of INSERTs; SQLite: an executemany."""
    if not rows:
        return
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = db.session.connection().connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])
    except psycopg.IntegrityError as exc:  # as SQLAlchemy would raise it for an INSERT
        raise IntegrityError(statement.as_string(raw), None, exc) from exc
