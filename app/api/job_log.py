"""The historic job log resource (spec C.3, A19): ``/history/job-log``."""

from flask import Blueprint, current_app

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, output_zone
from app.api.paging import list_response
from app.core.errors import NotFound
from app.services import job_log as service
from schemas.job_log import JobLogQuerySchema, job_log_dto
from schemas.query import PageSchema

bp = Blueprint("job_log", __name__)


def _list(query, page):
    zone = output_zone()
    authentication = current_authentication()
    return list_response(page, lambda first, limit: service.list_job_logs(query, first, limit, authentication),
                         lambda row: job_log_dto(row, zone),
                         stream_rows=lambda first, chunk: service.stream_job_logs(query, first, chunk, authentication))


@bp.get("/history/job-log")
@arguments(JobLogQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_job_logs(query, page):
    return _list(query, page)


@bp.post("/history/job-log")
@arguments(JobLogQuerySchema)
@arguments(PageSchema, location="query")
def query_job_logs(query, page):
    return _list(query, page)


@bp.get("/history/job-log/count")
@arguments(JobLogQuerySchema, location="query")
def get_job_logs_count(query):
    return count_response(service.count_job_logs(query, current_authentication()))


@bp.post("/history/job-log/count")
@arguments(JobLogQuerySchema)
def query_job_logs_count(query):
    return count_response(service.count_job_logs(query, current_authentication()))


@bp.get("/history/job-log/<log_id>")
def get_job_log(log_id):
    row = service.get_job_log(log_id, current_authentication())
    if row is None:
        raise NotFound(f"Historic job log with id {log_id} does not exist")
    return json_response(job_log_dto(row, output_zone()))


@bp.get("/history/job-log/<log_id>/stacktrace")
def get_job_log_stacktrace(log_id):
    found, stacktrace = service.get_job_log_stacktrace(log_id, current_authentication())
    if not found:
        raise NotFound(f"No historic job log found with id {log_id}: historicJobLog is null")
    if stacktrace is None:
        return no_content()  # a creation, success or deletion event has none (C.3.1)
    return current_app.response_class(stacktrace, status=200, mimetype="text/plain")
