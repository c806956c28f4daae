"""Two things about our schema that SQLAlchemy 2.0 cannot declare by itself, on both dialects.

- ``postgresql_with={...}`` on a table: storage parameters such as the job table's fillfactor.
  SQLAlchemy accepts the keyword on an Index only; registering it for Table lets a model state
  the parameters where the table is declared, and ``metadata.create_all`` applies them with the
  same ``ALTER TABLE ... SET (...)`` the migrations use. Alembic does not compare them;
  tests/db/test_migrations.py does.
- ``AscNullsFirst(column)``: an index column in ``ASC NULLS FIRST`` order, which SQLite cannot
  spell in CREATE INDEX.
"""

from sqlalchemy import DDL, Table, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

Table.argument_for("postgresql", "with", None)


@event.listens_for(Table, "after_create")
def _set_storage_parameters(table, connection, **kw):
    parameters = table.dialect_options["postgresql"]["with"]
    if parameters and connection.dialect.name == "postgresql":
        settings = ", ".join(f"{name} = {value}" for name, value in parameters.items())
        connection.execute(DDL(f"ALTER TABLE %(fullname)s SET ({settings})").against(table))


class AscNullsFirst(UnaryExpression):
    """``column ASC NULLS FIRST`` as an index column.

    PostgreSQL puts NULLs last in ascending order unless told otherwise; SQLite already puts
    them first and rejects the words in CREATE INDEX, so there the column is just ``ASC``
    (migration 0004 makes the same choice).
    """

    inherit_cache = True

    def __init__(self, column):
        super().__init__(column.asc(), modifier=operators.nulls_first_op)


@compiles(AscNullsFirst, "sqlite")
def _asc_nulls_first_on_sqlite(element, compiler, **kw):
    return compiler.process(element.element, **kw)
