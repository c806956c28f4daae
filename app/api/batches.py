"""The batch resource (spec B.4.4): runtime batches, their statistics, suspension and deletion."""

from flask import Blueprint, current_app, request

from app.api.common import count_response, json_body, json_response, no_content, output_zone
from app.core.errors import BadUserRequest, InvalidRequest, NotFound
from app.core.text import is_storable
from app.services.batches import engine
from app.services.batches import query as service
from schemas.batch import batch_dto, batch_statistics_dto
from schemas.batch_query import batch_query_from_args, batch_statistics_query_from_args
from schemas.common import convert_bool_param, parse_pagination

bp = Blueprint("batches", __name__)


def paged_rows(list_function, query):
    """``firstResult``/``maxResults`` applied in SQL; ``QUERY_MAX_RESULTS_LIMIT`` as for jobs (A12)."""
    first_result, max_results = parse_pagination(request.args)
    limit = current_app.config["QUERY_MAX_RESULTS_LIMIT"]
    if limit is None:
        return list_function(query, first_result, max_results)
    if max_results is not None:
        if max_results > limit:
            raise BadUserRequest(f"Max results limit of {limit} exceeded!")
        return list_function(query, first_result, max_results)
    rows = list_function(query, first_result, limit + 1)
    if len(rows) > limit:
        raise BadUserRequest(f"Max results limit of {limit} exceeded!")
    return rows


@bp.get("/batch")
def get_batches():
    rows = paged_rows(service.list_batches, batch_query_from_args(request.args))
    zone = output_zone()
    return json_response([batch_dto(row, zone) for row in rows])


@bp.get("/batch/count")
def get_batches_count():
    return count_response(service.count_batches(batch_query_from_args(request.args)))


@bp.get("/batch/statistics")
def get_batch_statistics():
    rows = paged_rows(service.list_batch_statistics, batch_statistics_query_from_args(request.args))
    zone = output_zone()
    return json_response([batch_statistics_dto(row, zone) for row in rows])


@bp.get("/batch/statistics/count")
def get_batch_statistics_count():
    return count_response(service.count_batch_statistics(batch_statistics_query_from_args(request.args)))


@bp.get("/batch/<batch_id>")
def get_batch(batch_id):
    row = service.get_batch(batch_id)
    if row is None:
        raise NotFound(f"Batch with id '{batch_id}' does not exist")
    return json_response(batch_dto(row, output_zone()))


def _suspended_flag(body):
    """SuspensionStateDto: a primitive boolean, so a missing or null ``suspended`` is false.
    Jackson also reads the strings "true"/"false"; anything else is a 400 (A2)."""
    if not isinstance(body, dict):
        raise InvalidRequest('The body must be a JSON object such as {"suspended": true}')
    value = body.get("suspended")
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidRequest(f"suspended must be a boolean (true or false), got {value!r}")


@bp.put("/batch/<batch_id>/suspended")
def update_batch_suspension_state(batch_id):
    suspended = _suspended_flag(json_body())
    if not is_storable(batch_id) or not engine.set_batch_suspended(batch_id, suspended):
        verb = "suspend" if suspended else "activate"
        # Camunda wraps the engine's BadUserRequestException, whose code (0) the body carries.
        raise InvalidRequest(f"Unable to {verb} batch with id '{batch_id}'", code=0)
    return no_content()


@bp.delete("/batch/<batch_id>")
def delete_batch(batch_id):
    raw = request.args.get("cascade")
    cascade = convert_bool_param("cascade", raw) if raw not in (None, "") else False
    if not is_storable(batch_id) or not engine.delete_batch(batch_id, cascade):
        raise InvalidRequest(f"Unable to delete batch with id '{batch_id}'", code=0)
    return no_content()
