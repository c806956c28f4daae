"""Keyset paging for the job list: our extension for deep pages (Camunda has only OFFSET).

``firstResult`` makes the database walk and discard every skipped row, so a page costs time
linear in its depth. A full page of ``GET``/``POST /job`` with ``maxResults`` therefore carries
an ``X-Next-Page-Token`` header: an opaque token holding the page's sort order and the sort
values of its last row. Sent back as the ``pageToken`` query parameter (with the same query
and ``maxResults``), it asks for the rows after that row in that order: an index range scan
whose cost does not depend on the depth. Clients that do not know the header ignore it.

The order is the query's ordering plus ``id`` as the tie-breaker, NULLs last ascending and
first descending (app.services.jobs.query.order_by_clauses), so "after" is well defined.
"""

import base64
import json
from datetime import datetime

from sqlalchemy import and_, false, or_, true

from app.core.errors import InvalidRequest
from app.models.tables import job_table
from app.services.jobs.query import NOT_NULL_COLUMNS

TOKEN_VERSION = 1


def sort_columns(ordering):
    """``[(column name, direction)]`` of the full order, tie-breaker included."""
    columns = list(ordering or [("id", "asc")])
    if "id" not in [name for name, _ in columns]:
        columns.append(("id", "asc"))
    return columns


def _encode_value(value):
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value):
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    raise ValueError("unexpected value in page token")


def next_page_token(row, ordering):
    columns = sort_columns(ordering)
    payload = {"v": TOKEN_VERSION, "o": columns, "k": [_encode_value(row[name]) for name, _ in columns]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token, ordering):
    """The last row's sort values, checked against this request's order."""
    columns = sort_columns(ordering)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if payload.get("v") != TOKEN_VERSION or [list(c) for c in columns] != payload.get("o"):
            raise ValueError("order")
        values = [_decode_value(value) for value in payload["k"]]
        if len(values) != len(columns):
            raise ValueError("length")
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        raise InvalidRequest(
            "pageToken is not a token this query issued: send the X-Next-Page-Token of the previous page "
            "with the same filters, sorting and maxResults") from None
    return values


def _after(name, direction, value):
    """Rows strictly after ``value`` in this column's order (NULLs last asc, first desc)."""
    column = job_table.c[name]
    nullable = name not in NOT_NULL_COLUMNS
    if direction == "asc":
        if value is None:
            return false()  # NULLs come last: nothing is after them but other NULLs
        return or_(column > value, column.is_(None)) if nullable else column > value
    if value is None:
        return column.isnot(None)  # NULLs come first in descending order
    return column < value


def _equal(name, value):
    column = job_table.c[name]
    return column.is_(None) if value is None else column == value


def after_condition(ordering, values):
    """(k1 after v1) OR (k1 = v1 AND k2 after v2) OR ... over the full order."""
    columns = sort_columns(ordering)
    alternatives = []
    prefix = []
    for (name, direction), value in zip(columns, values):
        alternatives.append(and_(*prefix, _after(name, direction, value)) if prefix else
                            _after(name, direction, value))
        prefix.append(_equal(name, value))
    return or_(*alternatives) if alternatives else true()
