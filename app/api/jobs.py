"""The job resource: Camunda's job query (spec B.1) and single-job operations (B.6.2)."""

from flask import Blueprint, current_app, request

from app.api.auth import current_authentication
from app.api.batch_requests import create_requested_batch
from app.api.common import arguments, count_response, json_response, no_content, output_zone, responds
from app.api.paging import list_response
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES
from app.services.batches.preview import preview_set_retries
from app.services.jobs import query as job_query_service
from app.services.jobs.commands import (
    delete_job as delete_job_by_id,
)
from app.services.jobs.commands import (
    execute_now,
    get_stacktrace,
    recalculate_due_date,
    set_due_date,
    set_priority,
    set_retries,
    set_suspended,
    set_suspended_by,
)
from app.services.jobs.ingest import get_job_row
from schemas.batch import BatchDto, batch_dto
from schemas.common import CountDto
from schemas.job import JobDto, job_dto
from schemas.job_operations import (
    DuedateSchema,
    PrioritySchema,
    RetriesSchema,
    SuspendedSchema,
    SuspensionBySelectorSchema,
)
from schemas.job_page import JobPageSchema, next_page_token
from schemas.job_query import JobQuerySchema
from schemas.job_retries import SetJobRetriesSchema

bp = Blueprint("jobs", __name__)

NEXT_PAGE = ("X-Next-Page-Token", "On a full page with maxResults: send it back as pageToken for the next page")


def _ordering_of(query):
    """What a page token is checked against (schemas.job_page)."""
    return {"ordering": query.ordering}


def _job_list_response(query, page):
    """Camunda's list rules (app.api.paging) plus our keyset paging (schemas.job_page)."""
    zone = output_zone()
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, maximum: job_query_service.list_jobs(query, first, maximum, after=page.after,
                                                           authentication=authentication),
        lambda row: job_dto(row, zone),
        stream_rows=lambda first, chunk: job_query_service.stream_jobs(query, first, chunk,
                                                                       authentication=authentication),
        next_page_token=lambda row: next_page_token(row, query.ordering),
    )


@bp.get("/job")
@responds(JobDto, many=True, headers=[NEXT_PAGE])
@arguments(JobQuerySchema, location="query")
@arguments(JobPageSchema, location="query", context=_ordering_of)
def get_jobs(query, page):
    return _job_list_response(query, page)


@bp.post("/job")
@responds(JobDto, many=True, headers=[NEXT_PAGE])
@arguments(JobQuerySchema)
@arguments(JobPageSchema, location="query", context=_ordering_of)
def query_jobs(query, page):
    return _job_list_response(query, page)


@bp.get("/job/count")
@responds(CountDto)
@arguments(JobQuerySchema, location="query")
def get_jobs_count(query):
    return count_response(job_query_service.count_jobs(query, current_authentication()))


@bp.post("/job/count")
@responds(CountDto)
@arguments(JobQuerySchema)
def query_jobs_count(query):
    return count_response(job_query_service.count_jobs(query, current_authentication()))


@bp.get("/job/<job_id>")
@responds(JobDto)
def get_job(job_id):
    return json_response(job_dto(get_job_row(job_id, authentication=current_authentication()), output_zone()))


@bp.post("/job/retries")
@responds(BatchDto)
@arguments(SetJobRetriesSchema)
def set_job_retries_async(retries_request):
    """Set Job Retries Async (spec B.3): creates a batch and returns it at once; at most once
    per ``Idempotency-Key`` (A20)."""
    batch = create_requested_batch(BATCH_TYPE_SET_JOB_RETRIES, retries_request)
    return json_response(batch_dto(batch, output_zone()))


@bp.post("/job/retries/preview")
@arguments(SetJobRetriesSchema)
def preview_job_retries(retries_request):
    """A20: what ``POST /job/retries`` with this body would select; writes nothing."""
    return json_response(preview_set_retries(retries_request, current_authentication()))


# --- synchronous single-job operations (spec B.3.5, B.6.2) ---------------------------------

@bp.put("/job/<job_id>/retries")
@responds(status=204)
@arguments(RetriesSchema)
def set_job_retries_sync(body, job_id):
    set_retries(job_id, body.retries, body.due_date_set, body.due_date, current_authentication())
    return no_content()


@bp.put("/job/<job_id>/duedate")
@responds(status=204)
@arguments(DuedateSchema)
def set_job_duedate(body, job_id):
    set_due_date(job_id, body.due_date, body.cascade, current_authentication())
    return no_content()


@bp.post("/job/<job_id>/duedate/recalculate")
def recalculate_job_duedate(job_id):
    """Spec C.4: ``creationDateBased`` is read as Java's Boolean.valueOf (anything but "true"
    in any case is false, never a 400); absent means true."""
    flag = request.args.get("creationDateBased")
    recalculate_due_date(job_id, creation_date_based=flag is None or flag.lower() == "true",
                         authentication=current_authentication())
    return no_content()


@bp.put("/job/<job_id>/priority")
@responds(status=204)
@arguments(PrioritySchema)
def set_job_priority(priority, job_id):
    set_priority(job_id, priority, current_authentication())
    return no_content()


@bp.put("/job/suspended")
@responds(status=204)
@arguments(SuspensionBySelectorSchema)
def set_jobs_suspended(selection):
    set_suspended_by(selection, current_authentication())
    return no_content()


@bp.put("/job/<job_id>/suspended")
@responds(status=204)
@arguments(SuspendedSchema)
def set_job_suspended(suspended, job_id):
    set_suspended(job_id, suspended, current_authentication())
    return no_content()


@bp.post("/job/<job_id>/execute")
@responds(status=204)
def execute_job_now(job_id):
    execute_now(job_id, current_authentication())
    return no_content()


@bp.get("/job/<job_id>/stacktrace")
@responds(mimetype="text/plain", description="The stack trace of the job's last failure")
def get_job_stacktrace(job_id):
    stacktrace = get_stacktrace(job_id, current_authentication())
    return current_app.response_class(stacktrace, status=200, mimetype="text/plain")


@bp.delete("/job/<job_id>")
@responds(status=204)
def delete_job(job_id):
    delete_job_by_id(job_id, current_authentication())
    return no_content()
