"""One list response for the smaller query resources (job definitions, incidents).

Same rules as the job list (spec A12, B.1.7): a page when ``maxResults`` is given; otherwise
the whole result, streamed, or refused above ``QUERY_MAX_RESULTS_LIMIT`` with Camunda's message.
"""

from flask import current_app, request

from app.api.common import json_response, streamed_json_array
from app.core.errors import BadUserRequest
from schemas.common import parse_pagination


def list_response(list_rows, stream_rows, to_dto, next_page_token=None):
    """``list_rows(first, max)`` returns a page, ``stream_rows(first, chunk)`` yields rows.

    ``next_page_token(last_row)``, when given, makes a full page carry ``X-Next-Page-Token``.
    """
    first_result, max_results = parse_pagination(request.args)
    limit = current_app.config["QUERY_MAX_RESULTS_LIMIT"]
    if max_results is not None:
        if limit is not None and max_results > limit:
            raise BadUserRequest(f"Max results limit of {limit} exceeded!")
        rows = list_rows(first_result, max_results)
        response = json_response([to_dto(row) for row in rows])
        if next_page_token is not None and rows and len(rows) == max_results:
            response.headers["X-Next-Page-Token"] = next_page_token(rows[-1])
        return response
    if limit is not None:
        rows = list_rows(first_result, limit + 1)
        if len(rows) > limit:
            raise BadUserRequest(f"Max results limit of {limit} exceeded!")
        return json_response([to_dto(row) for row in rows])
    rows = stream_rows(first_result, current_app.config["QUERY_STREAM_CHUNK_SIZE"])
    return streamed_json_array(to_dto(row) for row in rows)
