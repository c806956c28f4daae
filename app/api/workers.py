"""``GET /api/workers``: the executor's registered workers, their last heartbeat and the jobs
they hold (our extension, for the operator console; READ on SYSTEM, decision A23)."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import json_response, output_zone
from app.services.executor.workers import list_workers
from schemas.worker import worker_dto

bp = Blueprint("workers", __name__)


@bp.get("/workers")
def get_workers():
    zone = output_zone()
    return json_response([worker_dto(row, zone) for row in list_workers(current_authentication())])
