"""The historic batch resource (spec B.4.3, B.4.4). Historic batches are always recorded (A11)."""

from flask import Blueprint, request

from app.api.batches import paged_rows
from app.api.common import count_response, json_response, no_content, output_zone
from app.core.errors import InvalidRequest, NotFound
from app.core.text import is_storable
from app.services.batches import query as service
from app.services.batches.engine import delete_historic_batch
from schemas.batch import historic_batch_dto
from schemas.batch_query import historic_batch_query_from_args

bp = Blueprint("historic_batches", __name__)


@bp.get("/history/batch")
def get_historic_batches():
    rows = paged_rows(service.list_historic_batches, historic_batch_query_from_args(request.args))
    zone = output_zone()
    return json_response([historic_batch_dto(row, zone) for row in rows])


@bp.get("/history/batch/count")
def get_historic_batches_count():
    return count_response(service.count_historic_batches(historic_batch_query_from_args(request.args)))


@bp.get("/history/batch/<batch_id>")
def get_historic_batch(batch_id):
    row = service.get_historic_batch(batch_id)
    if row is None:
        raise NotFound(f"Historic batch with id '{batch_id}' does not exist")
    return json_response(historic_batch_dto(row, output_zone()))


@bp.delete("/history/batch/<batch_id>")
def delete_historic_batch_endpoint(batch_id):
    if not is_storable(batch_id) or not delete_historic_batch(batch_id):
        # 400, not the 404 the OpenAPI claims; code 0 from the wrapped BadUserRequestException.
        raise InvalidRequest(f"Unable to delete historic batch with id '{batch_id}'", code=0)
    return no_content()
