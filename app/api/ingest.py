"""``POST /api/jobs``: our extension for putting jobs into the service (Camunda creates them from BPMN)."""

from flask import Blueprint, current_app

from app.api.auth import current_authentication
from app.api.common import arguments, json_response, no_content, output_zone, responds
from app.core.errors import NotFound
from app.services.jobs.ingest import create_jobs
from app.services.jobs.retry_cycles import set_definition_retry_cycle
from schemas.job import JobDto, NewJobSchema, RetryTimeCycleSchema, job_dto

bp = Blueprint("ingest", __name__)


def _ingest_limit():
    return {"max_jobs": current_app.config["INGEST_MAX_JOBS"]}


@bp.post("/jobs")
@responds(JobDto, status=201, many=True, description="The jobs created, in the order sent")
@arguments(NewJobSchema, context=_ingest_limit, many=True)
def ingest_jobs(items):
    zone = output_zone()
    return json_response([job_dto(row, zone) for row in create_jobs(items, current_authentication())], status=201)


@bp.put("/job-definitions/<job_definition_id>/retry-time-cycle")
@arguments(RetryTimeCycleSchema)
def set_job_definition_retry_time_cycle(cycle, job_definition_id):
    """Extension (spec A19): the failedJobRetryTimeCycle of a job definition's jobs."""
    if not set_definition_retry_cycle(job_definition_id, cycle, current_authentication()):
        raise NotFound(f"Job definition with id '{job_definition_id}' does not exist.")
    return no_content()
