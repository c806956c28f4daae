"""The job definitions resource: query (GET/POST ``/job-definition``, ``/count``) and retries."""

from flask import Blueprint, request

from app.api.common import count_response, json_body, no_content
from app.api.paging import list_response
from app.services import job_definitions as service
from app.services.jobs.commands import set_job_definition_retries
from schemas.job_definition import (
    job_definition_dto,
    job_definition_query_from_args,
    job_definition_query_from_json,
)
from schemas.job_operations import load_retries

bp = Blueprint("job_definitions", __name__)


def _list(query):
    return list_response(
        lambda first, limit: service.list_job_definitions(query, first, limit),
        lambda first, chunk: service.stream_job_definitions(query, first, chunk),
        job_definition_dto,
    )


@bp.get("/job-definition")
def get_job_definitions():
    return _list(job_definition_query_from_args(request.args))


@bp.post("/job-definition")
def query_job_definitions():
    return _list(job_definition_query_from_json(json_body()))


@bp.get("/job-definition/count")
def get_job_definitions_count():
    return count_response(service.count_job_definitions(job_definition_query_from_args(request.args)))


@bp.post("/job-definition/count")
def query_job_definitions_count():
    return count_response(service.count_job_definitions(job_definition_query_from_json(json_body())))


@bp.put("/job-definition/<job_definition_id>/retries")
def set_retries(job_definition_id):
    """Only the failed jobs (retries 0) of the definition; an unknown definition is a no-op."""
    dto = load_retries(json_body())
    set_job_definition_retries(job_definition_id, dto.retries, dto.due_date_set, dto.due_date)
    return no_content()
