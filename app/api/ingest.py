"""``POST /api/jobs``: our extension for putting jobs into the service (Camunda creates them from BPMN)."""

from flask import Blueprint, current_app

from app.api.auth import current_authentication
from app.api.common import arguments, json_response, output_zone, responds
from app.services.jobs.ingest import create_jobs
from schemas.job import JobDto, NewJobSchema, job_dto

bp = Blueprint("ingest", __name__)


def _ingest_limit():
    return {"max_jobs": current_app.config["INGEST_MAX_JOBS"]}


@bp.post("/jobs")
@responds(JobDto, status=201, many=True, description="The jobs created, in the order sent")
@arguments(NewJobSchema, context=_ingest_limit, many=True)
def ingest_jobs(items):
    zone = output_zone()
    return json_response([job_dto(row, zone) for row in create_jobs(items, current_authentication())], status=201)
