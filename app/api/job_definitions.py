"""The job definitions resource: query (GET/POST ``/job-definition``, ``/count``) and retries."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, no_content, responds
from app.api.paging import list_response
from app.services import job_definitions as service
from app.services.jobs.commands import set_job_definition_retries
from schemas.common import CountDto
from schemas.job_definition import JobDefinitionDto, JobDefinitionQuerySchema, job_definition_dto
from schemas.job_operations import RetriesSchema
from schemas.query import PageSchema

bp = Blueprint("job_definitions", __name__)


def _list(query, page):
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, limit: service.list_job_definitions(query, first, limit, authentication=authentication),
        job_definition_dto,
        stream_rows=lambda first, chunk: service.stream_job_definitions(query, first, chunk,
                                                                        authentication=authentication),
    )


@bp.get("/job-definition")
@responds(JobDefinitionDto, many=True)
@arguments(JobDefinitionQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_job_definitions(query, page):
    return _list(query, page)


@bp.post("/job-definition")
@responds(JobDefinitionDto, many=True)
@arguments(JobDefinitionQuerySchema)
@arguments(PageSchema, location="query")
def query_job_definitions(query, page):
    return _list(query, page)


@bp.get("/job-definition/count")
@responds(CountDto)
@arguments(JobDefinitionQuerySchema, location="query")
def get_job_definitions_count(query):
    return count_response(service.count_job_definitions(query, current_authentication()))


@bp.post("/job-definition/count")
@responds(CountDto)
@arguments(JobDefinitionQuerySchema)
def query_job_definitions_count(query):
    return count_response(service.count_job_definitions(query, current_authentication()))


@bp.put("/job-definition/<job_definition_id>/retries")
@responds(status=204)
@arguments(RetriesSchema)
def set_retries(body, job_definition_id):
    """Only the failed jobs (retries 0) of the definition; an unknown definition is a no-op."""
    set_job_definition_retries(job_definition_id, body.retries, body.due_date_set, body.due_date,
                               current_authentication())
    return no_content()
