"""The job resource: Camunda's job query (spec B.1) and single-job operations (B.6.2)."""

from flask import Blueprint, current_app, request

from app.api.common import count_response, json_body, json_response, no_content, output_zone
from app.api.paging import list_response
from app.core.errors import InvalidRequest, NotFound
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES
from app.core.text import is_storable
from app.services.batches.engine import create_batch
from app.services.jobs import pages as job_pages
from app.services.jobs import query as job_query_service
from app.services.jobs.commands import (
    delete_job as delete_job_by_id,
)
from app.services.jobs.commands import (
    execute_now,
    get_stacktrace,
    set_due_date,
    set_priority,
    set_retries,
    set_suspended,
    set_suspended_by,
)
from app.services.jobs.ingest import get_job_row
from schemas.batch import batch_dto
from schemas.job import job_dto
from schemas.job_operations import (
    load_duedate,
    load_priority,
    load_retries,
    load_suspended,
    load_suspension_by_selector,
)
from schemas.job_query import job_query_from_args, job_query_from_json
from schemas.job_retries import load_set_job_retries

bp = Blueprint("jobs", __name__)


def _job_list_response(query):
    """Camunda's list rules (app.api.paging) plus our keyset paging (app.services.jobs.pages)."""
    zone = output_zone()
    after = None
    token = request.args.get("pageToken")
    if token is not None:
        if not request.args.get("maxResults"):
            raise InvalidRequest("pageToken needs maxResults: it continues a paged list")
        if request.args.get("firstResult") not in (None, "", "0"):
            raise InvalidRequest("pageToken and firstResult cannot be combined: the token already says where to go on")
        after = job_pages.after_condition(query.ordering, job_pages.decode_page_token(token, query.ordering))
    return list_response(
        lambda first, maximum: job_query_service.list_jobs(query, first, maximum, after=after),
        lambda first, chunk: job_query_service.stream_jobs(query, first, chunk),
        lambda row: job_dto(row, zone),
        next_page_token=lambda row: job_pages.next_page_token(row, query.ordering),
    )


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
    if not is_storable(job_id):
        raise NotFound(f"Job with id {job_id} does not exist")
    return json_response(job_dto(get_job_row(job_id), output_zone()))


@bp.post("/job/retries")
def set_job_retries_async():
    """Set Job Retries Async (spec B.3): creates a batch and returns it at once."""
    batch = create_batch(BATCH_TYPE_SET_JOB_RETRIES, load_set_job_retries(json_body()))
    return json_response(batch_dto(batch, output_zone()))


# --- synchronous single-job operations (spec B.3.5, B.6.2) ---------------------------------

@bp.put("/job/<job_id>/retries")
def set_job_retries_sync(job_id):
    dto = load_retries(json_body())
    set_retries(job_id, dto.retries, dto.due_date_set, dto.due_date)
    return no_content()


@bp.put("/job/<job_id>/duedate")
def set_job_duedate(job_id):
    dto = load_duedate(json_body())
    set_due_date(job_id, dto.due_date, dto.cascade)
    return no_content()


@bp.put("/job/<job_id>/priority")
def set_job_priority(job_id):
    set_priority(job_id, load_priority(json_body(), job_id))
    return no_content()


@bp.put("/job/suspended")
def set_jobs_suspended():
    set_suspended_by(load_suspension_by_selector(json_body()))
    return no_content()


@bp.put("/job/<job_id>/suspended")
def set_job_suspended(job_id):
    set_suspended(job_id, load_suspended(json_body()))
    return no_content()


@bp.post("/job/<job_id>/execute")
def execute_job_now(job_id):
    execute_now(job_id)
    return no_content()


@bp.get("/job/<job_id>/stacktrace")
def get_job_stacktrace(job_id):
    return current_app.response_class(get_stacktrace(job_id), status=200, mimetype="text/plain")


@bp.delete("/job/<job_id>")
def delete_job(job_id):
    delete_job_by_id(job_id)
    return no_content()
