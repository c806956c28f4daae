"""The identity models declare exactly what migration 0007 creates (Alembic autogenerate finds
nothing for these tables), constraint names included."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db
from tests.security.conftest import IDENTITY_TABLES

NAMES = {table.name for table in IDENTITY_TABLES}


def _table_of(diff):
    """The table name an autogenerate diff entry is about."""
    entry = diff[0] if isinstance(diff, list) else diff
    for item in entry[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None:
            return table.name
        if name in NAMES:
            return name
    return entry[2] if len(entry) > 2 and isinstance(entry[2], str) else None


def test_autogenerate_finds_no_difference_for_the_identity_tables(app, app_context):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        diffs = compare_metadata(context, db.metadata)
    assert [diff for diff in diffs if _table_of(diff) in NAMES] == []


def test_constraint_and_index_names_match(app, app_context):
    inspector = inspect(db.engine)
    for table in IDENTITY_TABLES:
        assert inspector.get_pk_constraint(table.name)["name"] == table.primary_key.name
        reflected_fks = sorted(fk["name"] for fk in inspector.get_foreign_keys(table.name))
        assert reflected_fks == sorted(fk.name for fk in table.foreign_key_constraints)
        reflected_indexes = sorted(index["name"] for index in inspector.get_indexes(table.name)
                                   if not index["name"].startswith("sqlite_autoindex"))
        declared = sorted(index.name for index in table.indexes)
        # SQLite reports unique constraints as indexes too.
        unique = sorted(constraint["name"] for constraint in inspector.get_unique_constraints(table.name))
        assert [name for name in reflected_indexes if name not in unique] == declared
