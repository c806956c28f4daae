"""The models declare what migrations/versions creates, so ``flask db migrate`` finds nothing to do.

The session ``app`` fixture's database was built by the real migrations. Alembic's autogenerate
comparison runs against it with the options ``flask db migrate`` uses (``app.extensions``'s
``migrate``), and must report no difference. Where Alembic cannot see a difference, a test here
looks itself: constraint names, PostgreSQL storage parameters (fillfactor), and the index sort
orders that SQLite does not reflect.
"""

import json
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import current_app
from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    MetaData,
    PrimaryKeyConstraint,
    UniqueConstraint,
    create_engine,
    inspect,
    text,
)

from app.extensions import NAMING_CONVENTION, db
from tests.conftest import is_postgres

SCRATCH_SCHEMA = "models_ddl_check"


def autogenerate_diff(connection, metadata):
    """What ``flask db migrate`` would write for ``metadata`` against this database."""
    options = dict(current_app.extensions["migrate"].configure_args)
    return compare_metadata(MigrationContext.configure(connection, opts=options), metadata)


def test_autogenerate_compares_types_and_server_defaults(app, app_context):
    # Without these the test below would pass over a column type or server default that differs.
    options = current_app.extensions["migrate"].configure_args
    assert options["compare_type"] is True
    assert options["compare_server_default"] is True


def test_autogenerate_finds_no_difference_between_models_and_migrations(app, app_context):
    # On SQLite Alembic compares an index's name, uniqueness and columns but not their sort
    # order (SQLite's reflection does not report DESC); the sort order is checked by
    # test_models_create_the_indexes_and_storage_parameters_the_migrations_create instead.
    with db.engine.connect() as connection:
        assert autogenerate_diff(connection, db.metadata) == []


def test_autogenerate_reports_an_index_the_models_lack(app, app_context):
    """The comparison above does look at indexes: without one, it would drop it."""
    trimmed = MetaData(naming_convention=NAMING_CONVENTION)
    for table in db.metadata.sorted_tables:
        table.to_metadata(trimmed)
    job = trimmed.tables["job"]
    job.indexes.discard(next(index for index in job.indexes if index.name == "ix_job_priority"))

    with db.engine.connect() as connection:
        diff = autogenerate_diff(connection, trimmed)

    assert [(operation, index.name) for operation, index in diff] == [("remove_index", "ix_job_priority")]


def declared_constraint_names(table, kind):
    return sorted(constraint.name for constraint in table.constraints if isinstance(constraint, kind))


def test_constraint_names_match_the_naming_convention(app, app_context):
    # Alembic matches primary and foreign keys by their columns, not their names; a name that
    # differs would only surface when a later migration tried to drop the constraint by name.
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        reflected = {
            PrimaryKeyConstraint: [inspector.get_pk_constraint(table.name)["name"]],
            ForeignKeyConstraint: sorted(fk["name"] for fk in inspector.get_foreign_keys(table.name)),
            UniqueConstraint: sorted(uq["name"] for uq in inspector.get_unique_constraints(table.name)),
            CheckConstraint: sorted(ck["name"] for ck in inspector.get_check_constraints(table.name)),
        }
        declared = {kind: declared_constraint_names(table, kind) for kind in reflected}
        assert reflected == declared, table.name
    assert db.metadata.tables["job_stacktrace"].primary_key.name == "pk_job_stacktrace"
    assert declared_constraint_names(db.metadata.tables["job_stacktrace"], ForeignKeyConstraint) == [
        "fk_job_stacktrace_job_id_job"
    ]


def storage_parameters(connection, schema):
    """``{table: sorted reloptions}`` for the ordinary tables of ``schema``."""
    rows = connection.execute(text(
        "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind = 'r' AND c.relname <> 'alembic_version'"
    ), {"schema": schema})
    return {name: sorted(options or []) for name, options in rows}


def column_storage(connection, schema):
    """``{"table.column": attstorage}`` for the columns of ``schema``'s tables whose storage is
    not their type's default (``ALTER COLUMN ... SET STORAGE``)."""
    rows = connection.execute(text(
        "SELECT c.relname || '.' || a.attname, a.attstorage FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE n.nspname = :schema AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attstorage <> t.typstorage"), {"schema": schema})
    return dict(rows.all())


def extended_statistics(connection, schema):
    """``{name: "table (kinds) columns"}`` for the extended statistics (CREATE STATISTICS) of
    ``schema``'s tables; the columns in table order, as PostgreSQL keeps them."""
    rows = connection.execute(text(
        "SELECT s.stxname, c.relname || ' (' || array_to_string(s.stxkind, ',') || ') ' || "
        "(SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(s.stxkeys) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = k.attnum) "
        "FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid "
        "JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE n.nspname = :schema"), {"schema": schema})
    return dict(rows.all())


def test_storage_parameters_match_the_models(app, app_context):
    if not is_postgres(app):
        pytest.skip("storage parameters (fillfactor) exist only on PostgreSQL")
    # Alembic does not compare storage parameters at all.
    declared = {
        table.name: sorted(f"{name}={value}" for name, value in
                           (table.dialect_options["postgresql"]["with"] or {}).items())
        for table in db.metadata.sorted_tables
    }
    with db.engine.connect() as connection:
        assert storage_parameters(connection, "public") == declared
    assert declared["job"] == ["fillfactor=60"]


def index_definitions_postgresql(connection, schema):
    rows = connection.execute(
        text("SELECT indexname, indexdef FROM pg_indexes "
             "WHERE schemaname = :schema AND tablename <> 'alembic_version'"),
        {"schema": schema},
    )
    return {name: definition.replace(f" ON {schema}.", " ON ") for name, definition in rows}


def index_definitions_sqlite(connection):
    # SQLite keeps each CREATE INDEX as written; implicit indexes (primary keys) have no SQL.
    rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    return {name: re.sub(r"\s+", " ", sql.replace('"', "")).strip() for name, sql in rows}


def test_models_create_the_indexes_and_storage_parameters_the_migrations_create(app, app_context):
    """``metadata.create_all`` builds the same indexes, sort orders included, and fillfactor."""
    if is_postgres(app):
        with db.engine.connect() as connection:
            migrated_indexes = index_definitions_postgresql(connection, "public")
            migrated_storage = storage_parameters(connection, "public")
            # PostgreSQL's DDL is transactional: the scratch schema goes with the rollback.
            connection.execute(text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))
            # public stays on the path for the operator classes of extensions (pg_trgm, 0010);
            # the tables it holds are not looked at (checkfirst) so that all are created here.
            connection.execute(text(f"SET LOCAL search_path TO {SCRATCH_SCHEMA}, public"))
            db.metadata.create_all(connection, checkfirst=False)
            created_indexes = index_definitions_postgresql(connection, SCRATCH_SCHEMA)
            created_storage = storage_parameters(connection, SCRATCH_SCHEMA)
            created_columns = column_storage(connection, SCRATCH_SCHEMA)
            created_statistics = extended_statistics(connection, SCRATCH_SCHEMA)
            migrated_statistics = extended_statistics(connection, "public")
            connection.rollback()
        with db.engine.connect() as connection:
            migrated_columns = column_storage(connection, "public")
        assert created_storage == migrated_storage
        assert created_storage["job"] == ["fillfactor=60"]
        assert created_columns == migrated_columns
        assert migrated_columns["batch_slice.job_ids"] == "e"  # EXTERNAL: uncompressed (0013)
        assert migrated_columns["batch_slice.job_tids"] == "e"  # (0014)
        assert created_statistics == migrated_statistics == {  # (0015)
            "st_job_exception_message_tenant_id": "job (d) exception_message, tenant_id",
            "st_job_activity_id_job_definition_id": "job (d) job_definition_id, activity_id"}
    else:
        with db.engine.connect() as connection:
            migrated_indexes = index_definitions_sqlite(connection)
        scratch = create_engine("sqlite://")
        try:
            with scratch.begin() as connection:
                db.metadata.create_all(connection)
                created_indexes = index_definitions_sqlite(connection)
        finally:
            scratch.dispose()

    assert created_indexes == migrated_indexes
    assert "priority DESC" in migrated_indexes["ix_job_acquisition"]
    declared = {index.name for table in db.metadata.tables.values() for index in table.indexes}
    assert {name for name in migrated_indexes if name.startswith("ix_")} == declared
    assert len(declared) >= 17  # the job, job definition and incident indexes at least


def _json_or_array(value):
    """A slice's ids as read without the model: a list on PostgreSQL, JSON text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def test_migration_0012_carries_running_batches_selections_over_and_back(app, app_context):
    """A batch running during the upgrade keeps its selection: its ``batch_element`` rows become
    one ``batch_slice`` row per slice, and the downgrade turns them back into rows."""
    import flask_migrate

    elements = [("b1", 0, "j1"), ("b1", 0, "j2"), ("b1", 1, "j3"), ("b2", 0, "j4")]
    db.session.remove()
    try:
        flask_migrate.downgrade(revision="0011")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO batch_element (batch_id, slice, job_id) VALUES (:b, :s, :j)"),
                               [dict(b=b, s=s, j=j) for b, s, j in elements])
        flask_migrate.upgrade(revision="0012")
        with db.engine.connect() as connection:  # the table as 0012 left it (no model of it)
            rows = connection.execute(text("SELECT batch_id, slice, size, job_ids FROM batch_slice")).all()
        slices = {(row.batch_id, row.slice): (row.size, sorted(_json_or_array(row.job_ids))) for row in rows}
        assert slices == {("b1", 0): (2, ["j1", "j2"]), ("b1", 1): (1, ["j3"]), ("b2", 0): (1, ["j4"])}
        flask_migrate.downgrade(revision="0011")
        with db.engine.connect() as connection:
            back = connection.execute(text("SELECT batch_id, slice, job_id FROM batch_element")).all()
        assert sorted(tuple(row) for row in back) == elements
    finally:
        db.session.remove()
        flask_migrate.upgrade()


def test_migration_0013_stores_slice_ids_uncompressed_and_back(app, app_context):
    """PostgreSQL: 0013 sets ``batch_slice.job_ids`` to EXTERNAL, its downgrade back to the
    array type's default (EXTENDED: compressed); a slice written either way reads the same."""
    import flask_migrate

    if not is_postgres(app):
        pytest.skip("column storage exists only on PostgreSQL")
    ids = [f"{n:032x}" for n in range(1000)]

    def storage_and_ids():
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO batch_slice (batch_id, slice, size, job_ids) "
                                    "VALUES ('b-0013', 0, 1000, :ids)"), {"ids": ids})
            stored = connection.execute(text("SELECT job_ids FROM batch_slice WHERE batch_id = 'b-0013'")).scalar()
            connection.execute(text("DELETE FROM batch_slice WHERE batch_id = 'b-0013'"))
            return column_storage(connection, "public").get("batch_slice.job_ids"), stored

    db.session.remove()
    try:
        assert storage_and_ids() == ("e", ids)
        flask_migrate.downgrade(revision="0012")
        assert storage_and_ids() == (None, ids)  # the type's default again
    finally:
        db.session.remove()
        flask_migrate.upgrade()
    assert storage_and_ids()[0] == "e"


def test_migration_0014_adds_the_slices_row_addresses_and_back(app, app_context):
    """0014 adds ``batch_slice.job_tids`` (``tid[]`` stored uncompressed on PostgreSQL), nullable:
    a slice written before it keeps its ids and has no addresses; the downgrade drops the column
    and keeps the slices."""
    import flask_migrate

    def slice_columns():
        with db.engine.connect() as connection:
            return {column["name"]: column for column in inspect(connection).get_columns("batch_slice")}

    db.session.remove()
    try:
        flask_migrate.downgrade(revision="0013")
        assert "job_tids" not in slice_columns()
        ids = ["j1", "j2"]
        stored_ids = ids if is_postgres(app) else json.dumps(ids)
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO batch_slice (batch_id, slice, size, job_ids) "
                                    "VALUES ('b-0014', 0, 2, :ids)"), {"ids": stored_ids})
        flask_migrate.upgrade(revision="0014")
        columns = slice_columns()
        assert columns["job_tids"]["nullable"] is True
        with db.engine.begin() as connection:
            row = connection.execute(text("SELECT job_ids, job_tids FROM batch_slice WHERE batch_id = 'b-0014'")).one()
            if is_postgres(app):
                assert column_storage(connection, "public")["batch_slice.job_tids"] == "e"
                assert connection.execute(text("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                               "WHERE attrelid = 'batch_slice'::regclass "
                                               "AND attname = 'job_tids'")).scalar() == "tid[]"
        assert (_json_or_array(row.job_ids), row.job_tids) == (ids, None)
        flask_migrate.downgrade(revision="0013")
        assert "job_tids" not in slice_columns()
        with db.engine.begin() as connection:
            kept = connection.execute(text("SELECT job_ids FROM batch_slice WHERE batch_id = 'b-0014'")).scalar()
            connection.execute(text("DELETE FROM batch_slice WHERE batch_id = 'b-0014'"))
        assert _json_or_array(kept) == ids
    finally:
        db.session.remove()
        flask_migrate.upgrade()


def test_migration_0015_creates_the_preview_pairs_statistics_and_back(app, app_context):
    """PostgreSQL: 0015 creates ndistinct statistics on the preview's column pairs and ANALYZEs
    the job table, so the planner estimates a pair's groups from the data (not as the product of
    its columns' distinct counts) at once; the downgrade drops them. SQLite: nothing changes."""
    import flask_migrate

    def statistics():
        with db.engine.connect() as connection:
            return extended_statistics(connection, "public") if is_postgres(app) else {}

    def estimated_groups():
        """The planner's rows for GROUP BY activity_id, job_definition_id over every job."""
        with db.engine.connect() as connection:
            plan = connection.execute(text("EXPLAIN (FORMAT JSON) SELECT activity_id, job_definition_id, count(*) "
                                           "FROM job GROUP BY activity_id, job_definition_id")).scalar()
        return plan[0]["Plan"]["Plan Rows"]

    db.session.remove()
    try:
        flask_migrate.downgrade(revision="0014")
        assert statistics() == {}
        if is_postgres(app):
            # 40 activities with one job definition each: 40 groups, 1,600 by the product (below the
            # planner's cap of a tenth of the rows).
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO job (id, revision, type, handler_type, job_definition_id, activity_id, retries, "
                    "suspended, priority, has_stacktrace, create_time) "
                    "SELECT 'st-' || i, 1, 'message', 'demo.noop', 'jd-' || i % 40, 'act-' || i % 40, 0, false, 0, "
                    "false, now() FROM generate_series(1, 20000) AS i"))
                connection.execute(text("ANALYZE job"))
            assert estimated_groups() > 1000
        flask_migrate.upgrade(revision="0015")
        if is_postgres(app):
            assert set(statistics()) == {"st_job_exception_message_tenant_id", "st_job_activity_id_job_definition_id"}
            assert estimated_groups() == 40  # the migration's ANALYZE filled the statistics
        flask_migrate.downgrade(revision="0014")
        assert statistics() == {}
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM job WHERE id LIKE 'st-%'"))
        db.session.remove()
        flask_migrate.upgrade()
