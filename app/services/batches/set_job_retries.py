"""The set-job-retries batch type (Camunda's ``Batch.TYPE_SET_JOB_RETRIES``, spec B.3).

Request: a loaded ``POST /job/retries`` body (schemas.job_retries.SetJobRetriesRequest: ``retries``,
``job_ids``, ``job_query``, ``due_date_set``, ``due_date``). Selection: the explicit ids ∪ the
jobs the job query matches. Configuration: the retries and the due date, stored once on the batch
row. A slice: app.services.jobs.retries.set_job_retries, Camunda's per-job semantics in one
statement.
"""

from app.core.dates import parse_date
from app.core.errors import InvalidRequest
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES
from app.services.batches.types import BatchType, Selection, SliceResult
from app.services.jobs.query import select_job_ids
from app.services.jobs.retries import UNSET, set_job_retries

EMPTY_SELECTION = "jobIds is empty"
NEGATIVE_RETRIES = "Retries count is not greater than or equal to 0"


def selection(request):
    query = select_job_ids(request.job_query) if request.job_query is not None else None
    return Selection.of(request.job_ids, query)


def validate(request, selection):
    """Negative retries, reported after an empty selection as Camunda does (B.3.2).

    The selection is only probed (``EXISTS``), so a bad request over a wide job query writes
    nothing instead of writing the whole selection and rolling it back.
    """
    if request.retries < 0:
        if selection.is_empty():
            raise InvalidRequest(EMPTY_SELECTION)
        raise InvalidRequest(NEGATIVE_RETRIES)


def configuration(request):
    due_date = request.due_date.isoformat() if request.due_date is not None else None
    return {"retries": request.retries, "dueDateSet": bool(request.due_date_set), "dueDate": due_date}


def apply_slice(ids, configuration):
    """Set the retries (and the due date, when the request had one) on the jobs that still exist."""
    due_date = UNSET
    if configuration.get("dueDateSet"):
        raw = configuration.get("dueDate")
        due_date = None if raw is None else parse_date(raw)
    result = set_job_retries(ids, configuration["retries"], due_date, revived_by=configuration.get("batchId"))
    return SliceResult(updated=result.updated, missing=result.missing)


# Registered with its execution handler by app.services.batches.handlers.
SET_JOB_RETRIES = BatchType(
    name=BATCH_TYPE_SET_JOB_RETRIES,
    empty_selection_message=EMPTY_SELECTION,
    selection=selection,
    validate=validate,
    configuration=configuration,
    apply_slice=apply_slice,
)
