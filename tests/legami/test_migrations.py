"""Migrations build an empty database that matches the models, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from legami.extensions import db
from tests.conftest import make_test_app
from tests.dbs import engine_name, fresh_database


def test_upgrade_from_empty_matches_the_models_and_downgrades(tmp_path):
    with fresh_database(tmp_path) as url:
        app = make_test_app(url, tmp_path / "instance")
        with app.app_context():
            assert db.engine.dialect.name == engine_name()
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"campaigns", "pacts", "labs", "organisations", "users"} <= tables
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
