"""Keyset paging of the job list on the wire: our extension for deep pages (Camunda has only OFFSET).

``firstResult`` makes the database walk and discard every skipped row, so a page costs time
linear in its depth. A full page of ``GET``/``POST /job`` with ``maxResults`` therefore carries
an ``X-Next-Page-Token`` header: an opaque token holding the page's sort order and the sort
values of its last row. Sent back as the ``pageToken`` query parameter (with the same query
and ``maxResults``), it asks for the rows after that row in that order, which
``app.services.jobs.query`` turns into an index range scan whose cost does not depend on the
depth. Clients that do not know the header ignore it.

The order is the query's ordering plus ``id`` as the tie-breaker (app.core.ordering), NULLs last
ascending and first descending, so "after" is well defined.
"""

import base64
import json
from datetime import datetime

from marshmallow import fields

from app.core.errors import InvalidRequest
from app.core.ordering import with_tie_breaker
from schemas.common import context_value, url
from schemas.query import PageSchema

TOKEN_VERSION = 1


def _encode_value(value):
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value):
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    raise ValueError("unexpected value in page token")


def next_page_token(row, ordering):
    """The token of the page after ``row`` (the last row of a full page) in ``ordering``."""
    columns = with_tie_breaker(ordering)
    payload = {"v": TOKEN_VERSION, "o": columns, "k": [_encode_value(row[name]) for name, _ in columns]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token, ordering):
    """The keyset ``[(column, direction, value)]`` of the last row, checked against this
    request's order."""
    columns = with_tie_breaker(ordering)
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
    return [(name, direction, value) for (name, direction), value in zip(columns, values)]


def _page_token(name, values):
    return decode_page_token(values[0], context_value("ordering"))


class JobPageSchema(PageSchema):
    """The page of a job list: ``firstResult``/``maxResults`` and ``pageToken``, which needs the
    query's ordering in the load context. The token's rules come first, then the token, then
    the numbers."""

    # In PageSchema's first place: a token is decoded before firstResult and maxResults.
    after = fields.Raw(data_key="pageToken", metadata={
        **url(_page_token), "type": "string", "description": "The X-Next-Page-Token of the previous page"})

    def check_first(self, args):
        if args.get("pageToken") is None:
            return
        if not args.get("maxResults"):
            raise InvalidRequest("pageToken needs maxResults: it continues a paged list")
        if args.get("firstResult") not in (None, "", "0"):
            raise InvalidRequest("pageToken and firstResult cannot be combined: the token already says where to go on")
