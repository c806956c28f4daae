"""Small SQL helpers shared by the services."""

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from app.extensions import db


def is_postgres():
    return db.session.get_bind().dialect.name == "postgresql"


def in_ids(column, ids):
    """``column = ANY(:ids)`` with the ids as ONE array parameter on PostgreSQL (one plan, no
    statement text that grows with the list); an expanding ``IN`` elsewhere."""
    ids = list(ids)
    if is_postgres():
        return column == any_(bindparam(None, ids, type_=ARRAY(String), unique=True))
    return column.in_(ids)
