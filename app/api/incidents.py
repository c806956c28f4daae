"""The incidents resource: ``GET /incident`` and ``GET /incident/count``."""

from flask import Blueprint, request

from app.api.common import count_response, output_zone
from app.api.paging import list_response
from app.services import incidents as service
from schemas.incident import incident_dto, incident_query_from_args

bp = Blueprint("incidents", __name__)


@bp.get("/incident")
def get_incidents():
    query = incident_query_from_args(request.args)
    zone = output_zone()
    return list_response(
        lambda first, limit: service.list_incidents(query, first, limit),
        lambda first, chunk: service.stream_incidents(query, first, chunk),
        lambda row: incident_dto(row, zone),
    )


@bp.get("/incident/count")
def get_incidents_count():
    return count_response(service.count_incidents(incident_query_from_args(request.args)))
