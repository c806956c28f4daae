"""What the identity services share: the id rule, lookups, duplicate detection, list queries."""

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import BadUserRequest, InvalidRequest
from app.core.text import is_storable
from app.extensions import db
from app.models.tables import group_member_table
from app.services.auth import MAX_ID_LENGTH
from app.services.sql import RowQuery


def validate_id(kind, value):
    """A user, group or tenant id: present, at most 64 characters, matching ``IDENTITY_ID_PATTERN``.

    Camunda answers a malformed id with a 500 ``ProcessEngineException``; this is a 400 with
    Camunda's message (``User has an invalid id: 'a b' is not a valid resource identifier.``).
    """
    if value is None:
        raise InvalidRequest(f"{kind} id is null")
    if not isinstance(value, str):
        raise InvalidRequest(f"{kind} id must be a string")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequest(f"{kind} id must be at most {MAX_ID_LENGTH} characters, got {len(value)}")
    if not is_storable(value) or not re.fullmatch(current_app.config["IDENTITY_ID_PATTERN"], value):
        raise InvalidRequest(f"{kind} has an invalid id: '{value}' is not a valid resource identifier.")
    return value


def find(table, row_id, *conditions):
    """The row with ``row_id`` (as a mapping) if it exists and passes ``conditions``, else None."""
    if not isinstance(row_id, str) or not is_storable(row_id):
        return None
    statement = select(table).where(table.c.id == row_id, *conditions)
    return db.session.execute(statement).mappings().first()


def exists(table, row_id):
    return find(table, row_id) is not None


def insert_unique(statement, duplicate_message):
    """Run an INSERT; a unique-key violation (a concurrent twin) is Camunda's BadUserRequest."""
    try:
        with db.session.begin_nested():
            db.session.execute(statement)
    except IntegrityError:
        raise BadUserRequest(duplicate_message) from None


def count(table, conditions):
    return db.session.scalar(select(func.count()).select_from(table).where(*conditions))


@dataclass(frozen=True)
class ScopedQuery:
    """An identity query and who asks it: the lists show only what the caller may read, so the
    conditions (app.services.sql.RowQuery's ``conditions``) need both."""

    authentication: object
    filters: dict
    ordering: list


def scoped(authentication, query):
    return ScopedQuery(authentication, query.filters, query.ordering)


def readable_rows(table, conditions):
    """The list, stream and count reads of an identity table (one RowQuery), for
    ``conditions(authentication, filters)``."""
    columns = tuple(column.name for column in table.c)
    return RowQuery(table, columns, lambda query: conditions(query.authentication, query.filters))


def select_groups_of(user_id):
    """``SELECT group_id`` of the user's groups, for use inside a condition."""
    return select(group_member_table.c.group_id).where(group_member_table.c.user_id == user_id)
