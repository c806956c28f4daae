"""The batch resource (spec B.4.4): runtime batches, their statistics, suspension and deletion."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, output_zone, responds
from app.api.paging import list_response
from app.core.errors import InvalidRequest, NotFound
from app.services.batches import engine
from app.services.batches import query as service
from schemas.batch import (
    BatchDto,
    BatchStatisticsDto,
    DeleteBatchArgsSchema,
    SuspensionStateSchema,
    batch_dto,
    batch_statistics_dto,
)
from schemas.batch_query import BatchQuerySchema, BatchStatisticsQuerySchema
from schemas.common import CountDto
from schemas.query import PageSchema

bp = Blueprint("batches", __name__)


@bp.get("/batch")
@responds(BatchDto, many=True)
@arguments(BatchQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_batches(query, page):
    zone = output_zone()
    authentication = current_authentication()
    return list_response(page, lambda first, limit: service.list_batches(query, first, limit, authentication),
                         lambda row: batch_dto(row, zone))


@bp.get("/batch/count")
@responds(CountDto)
@arguments(BatchQuerySchema, location="query")
def get_batches_count(query):
    return count_response(service.count_batches(query, current_authentication()))


@bp.get("/batch/statistics")
@responds(BatchStatisticsDto, many=True)
@arguments(BatchStatisticsQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_batch_statistics(query, page):
    zone = output_zone()
    authentication = current_authentication()
    return list_response(page,
                         lambda first, limit: service.list_batch_statistics(query, first, limit, authentication),
                         lambda row: batch_statistics_dto(row, zone))


@bp.get("/batch/statistics/count")
@responds(CountDto)
@arguments(BatchStatisticsQuerySchema, location="query")
def get_batch_statistics_count(query):
    return count_response(service.count_batch_statistics(query, current_authentication()))


@bp.get("/batch/<batch_id>")
@responds(BatchDto)
def get_batch(batch_id):
    row = service.get_batch(batch_id, current_authentication())
    if row is None:
        raise NotFound(f"Batch with id '{batch_id}' does not exist")
    return json_response(batch_dto(row, output_zone()))


@bp.put("/batch/<batch_id>/suspended")
@responds(status=204)
@arguments(SuspensionStateSchema)
def update_batch_suspension_state(suspended, batch_id):
    if not engine.set_batch_suspended(batch_id, suspended, current_authentication()):
        verb = "suspend" if suspended else "activate"
        # Camunda wraps the engine's BadUserRequestException, whose code (0) the body carries.
        raise InvalidRequest(f"Unable to {verb} batch with id '{batch_id}'", code=0)
    return no_content()


@bp.delete("/batch/<batch_id>")
@responds(status=204)
@arguments(DeleteBatchArgsSchema, location="query")
def delete_batch(cascade, batch_id):
    if not engine.delete_batch(batch_id, cascade, current_authentication()):
        raise InvalidRequest(f"Unable to delete batch with id '{batch_id}'", code=0)
    return no_content()
