"""The one list response of every query resource (jobs, job definitions, incidents, batches).

Camunda's rules (spec A12, B.1.7): a page when ``maxResults`` is given; otherwise the whole
result, refused above ``QUERY_MAX_RESULTS_LIMIT`` with Camunda's message. Without a limit the
whole result is streamed where the resource can stream it (the server never holds it all).
"""

from flask import current_app

from app.api.common import json_response, streamed_json_array
from app.core.errors import BadUserRequest


def list_response(page, list_rows, to_dto, stream_rows=None, next_page_token=None):
    """The rows of ``page`` (schemas.common.Page) as a JSON array of ``to_dto(row)``.

    ``list_rows(first, max)`` returns a list of rows (``max`` None: all of them);
    ``stream_rows(first, chunk)``, when given, yields them instead for an unlimited list.
    ``next_page_token(last_row)``, when given, makes a full page carry ``X-Next-Page-Token``.
    """
    limit = current_app.config["QUERY_MAX_RESULTS_LIMIT"]
    first_result, max_results = page.first_result, page.max_results
    if max_results is not None:
        if limit is not None and max_results > limit:
            raise _limit_exceeded(limit)
        rows = list_rows(first_result, max_results)
        response = json_response([to_dto(row) for row in rows])
        if next_page_token is not None and rows and len(rows) == max_results:
            response.headers["X-Next-Page-Token"] = next_page_token(rows[-1])
        return response
    if limit is not None:
        # One row more than the limit tells "too many" without counting them all.
        rows = list_rows(first_result, limit + 1)
        if len(rows) > limit:
            raise _limit_exceeded(limit)
        return json_response([to_dto(row) for row in rows])
    if stream_rows is None:
        return json_response([to_dto(row) for row in list_rows(first_result, None)])
    rows = stream_rows(first_result, current_app.config["QUERY_STREAM_CHUNK_SIZE"])
    return streamed_json_array(to_dto(row) for row in rows)


def _limit_exceeded(limit):
    return BadUserRequest(f"Max results limit of {limit} exceeded!")
