"""The job resource: Camunda's job query (spec B.1) and single-job operations (B.6.2)."""

from flask import Blueprint, current_app, request

from app.api.common import count_response, json_body, json_response, output_zone, streamed_json_array
from app.errors import BadUserRequest
from app.services import job_query as job_query_service
from app.services.jobs import get_job_row
from schemas.common import parse_pagination
from schemas.job import job_dto
from schemas.job_query import job_query_from_args, job_query_from_json

bp = Blueprint("jobs", __name__)


def _job_list_response(query):
    """A page when ``maxResults`` is given; otherwise the whole result, streamed or refused
    above ``QUERY_MAX_RESULTS_LIMIT`` with Camunda's message (spec A12, B.1.7)."""
    first_result, max_results = parse_pagination(request.args)
    limit = current_app.config["QUERY_MAX_RESULTS_LIMIT"]
    zone = output_zone()
    if max_results is not None:
        if limit is not None and max_results > limit:
            raise BadUserRequest(f"Max results limit of {limit} exceeded!")
        rows = job_query_service.list_jobs(query, first_result, max_results)
        return json_response([job_dto(row, zone) for row in rows])
    if limit is not None:
        rows = job_query_service.list_jobs(query, first_result, limit + 1)
        if len(rows) > limit:
            raise BadUserRequest(f"Max results limit of {limit} exceeded!")
        return json_response([job_dto(row, zone) for row in rows])
    rows = job_query_service.stream_jobs(query, first_result, current_app.config["QUERY_STREAM_CHUNK_SIZE"])
    return streamed_json_array(job_dto(row, zone) for row in rows)


@bp.get("/job")
def get_jobs():
    return _job_list_response(job_query_from_args(request.args))


@bp.post("/job")
def query_jobs():
    return _job_list_response(job_query_from_json(json_body()))


@bp.get("/job/count")
def get_jobs_count():
    return count_response(job_query_service.count_jobs(job_query_from_args(request.args)))


@bp.post("/job/count")
def query_jobs_count():
    return count_response(job_query_service.count_jobs(job_query_from_json(json_body())))


@bp.get("/job/<job_id>")
def get_job(job_id):
    return json_response(job_dto(get_job_row(job_id), output_zone()))
