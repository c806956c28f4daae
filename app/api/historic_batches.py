"""The historic batch resource (spec B.4.3, B.4.4). Historic batches are always recorded (A11)."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, output_zone, responds
from app.api.paging import list_response
from app.core.errors import InvalidRequest, NotFound
from app.services.batches import query as service
from app.services.batches.engine import delete_historic_batch
from app.services.job_log import batch_outcome
from schemas.batch import HistoricBatchDto, historic_batch_dto
from schemas.batch_query import HistoricBatchQuerySchema
from schemas.common import CountDto
from schemas.query import PageSchema

bp = Blueprint("historic_batches", __name__)


@bp.get("/history/batch")
@responds(HistoricBatchDto, many=True)
@arguments(HistoricBatchQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_historic_batches(query, page):
    zone = output_zone()
    authentication = current_authentication()
    return list_response(page,
                         lambda first, limit: service.list_historic_batches(query, first, limit, authentication),
                         lambda row: historic_batch_dto(row, zone))


@bp.get("/history/batch/count")
@responds(CountDto)
@arguments(HistoricBatchQuerySchema, location="query")
def get_historic_batches_count(query):
    return count_response(service.count_historic_batches(query, current_authentication()))


@bp.get("/history/batch/<batch_id>")
@responds(HistoricBatchDto)
def get_historic_batch(batch_id):
    row = service.get_historic_batch(batch_id, current_authentication())
    if row is None:
        raise NotFound(f"Historic batch with id '{batch_id}' does not exist")
    return json_response(historic_batch_dto(row, output_zone()))


@bp.get("/history/batch/<batch_id>/outcome")
def get_historic_batch_outcome(batch_id):
    """Extension (spec A19): what became of the jobs a set-retries batch revived."""
    outcome = batch_outcome(batch_id, current_authentication())
    if outcome is None:
        raise NotFound(f"Historic batch with id '{batch_id}' does not exist")
    return json_response(outcome)


@bp.delete("/history/batch/<batch_id>")
@responds(status=204)
def delete_historic_batch_endpoint(batch_id):
    if not delete_historic_batch(batch_id, current_authentication()):
        # 400, not the 404 the OpenAPI claims; code 0 from the wrapped BadUserRequestException.
        raise InvalidRequest(f"Unable to delete historic batch with id '{batch_id}'", code=0)
    return no_content()
