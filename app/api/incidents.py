"""The incidents resource: ``GET /incident`` and ``GET /incident/count``."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, output_zone, responds
from app.api.paging import list_response
from app.services import incidents as service
from schemas.common import CountDto
from schemas.incident import IncidentDto, IncidentQuerySchema, incident_dto
from schemas.query import PageSchema

bp = Blueprint("incidents", __name__)


@bp.get("/incident")
@responds(IncidentDto, many=True)
@arguments(IncidentQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_incidents(query, page):
    zone = output_zone()
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, limit: service.list_incidents(query, first, limit, authentication=authentication),
        lambda row: incident_dto(row, zone),
        stream_rows=lambda first, chunk: service.stream_incidents(query, first, chunk,
                                                                  authentication=authentication),
    )


@bp.get("/incident/count")
@responds(CountDto)
@arguments(IncidentQuerySchema, location="query")
def get_incidents_count(query):
    return count_response(service.count_incidents(query, current_authentication()))
