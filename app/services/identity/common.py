"""What the identity services share: the id rule, lookups, duplicate detection, list queries."""

import re

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import BadUserRequest, InvalidRequest
from app.core.text import is_storable
from app.extensions import db
from app.models.tables import group_member_table
from app.services.auth import MAX_ID_LENGTH
from app.services.sql import fetch_mappings, order_by_columns, paged, stream_mappings


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


def list_rows(table, conditions, ordering, nullable, first_result=None, max_results=None):
    statement = select(table).where(*conditions).order_by(*order_by_columns(table, ordering, nullable))
    return fetch_mappings(paged(statement, first_result, max_results))


def stream_rows(table, conditions, ordering, nullable, first_result=None, chunk_size=1000):
    statement = select(table).where(*conditions).order_by(*order_by_columns(table, ordering, nullable))
    return stream_mappings(paged(statement, first_result), chunk_size)


def select_groups_of(user_id):
    """``SELECT group_id`` of the user's groups, for use inside a condition."""
    return select(group_member_table.c.group_id).where(group_member_table.c.user_id == user_id)
