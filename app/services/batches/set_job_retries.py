"""The set-job-retries batch type (Camunda's ``Batch.TYPE_SET_JOB_RETRIES``, spec B.3).

Request: a loaded ``POST /job/retries`` body (schemas.job_retries.SetJobRetriesRequest: ``retries``,
``job_ids``, ``job_query``, ``due_date_set``, ``due_date``, ``due_date_spread_seconds``).
Selection: the explicit ids ∪ the jobs the job query matches, built by :func:`selection`, the one
function that POST /job/retries, its preview and ``flask jobs retries`` share. Configuration: the
retries and the due date (or the spread), stored once on the batch row. A slice:
app.services.jobs.retries.set_job_retries, Camunda's per-job semantics in one statement.
"""

from datetime import timedelta

from app.core.dates import format_date, parse_date, truncate_ms, utcnow
from app.core.errors import InvalidRequest
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES
from app.models.tables import job_table
from app.services import access, audit
from app.services.batches.types import BatchType, Selection, SliceResult
from app.services.jobs.query import select_job_ids
from app.services.jobs.retries import UNSET, revive_stored_ids, set_job_retries

EMPTY_SELECTION = "jobIds is empty"
NEGATIVE_RETRIES = "Retries count is not greater than or equal to 0"


def selection(request):
    """The jobs a set-retries request selects: explicit ids ∪ the job query's jobs."""
    query = select_job_ids(request.job_query) if request.job_query is not None else None
    return Selection.of(request.job_ids, query)


def authorize(request, selection, authentication):
    """The selection within what the creator may update (A16): the job query keeps only the jobs
    it may read and set retries on (tenants and permissions); an explicit id of a job it may see
    but not update refuses the request (403, nothing written). Explicit ids of other tenants'
    jobs stay elements, as unknown ids do, and the execution jobs skip them
    (:func:`element_conditions`)."""
    if not access.is_restricted(authentication):
        return selection
    query = None
    if request.job_query is not None:
        query = select_job_ids(request.job_query, authentication, families=(access.RETRY_JOB,))
    if selection.ids:
        c = job_table.c
        for start in range(0, len(selection.ids), 5000):
            chunk = selection.ids[start:start + 5000]
            access.refuse_unless_all(authentication, access.RETRY_JOB, [
                c.id.in_(chunk), access.tenant_visible(authentication, c.tenant_id)])
    return Selection(ids=selection.ids, query=query)


def element_conditions(authentication):
    """What the execution jobs require of each element of a restricted creator's batch: the
    creator's tenant and ``RETRY_JOB``/``UPDATE`` as for ``PUT /job/{id}/retries``."""
    return access.job_conditions(authentication, access.RETRY_JOB)


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
    """Retries and due date; with a spread (A20), its length and its start, the batch's creation."""
    due_date = request.due_date.isoformat() if request.due_date is not None else None
    configuration = {"retries": request.retries, "dueDateSet": bool(request.due_date_set), "dueDate": due_date}
    spread = getattr(request, "due_date_spread_seconds", None)
    if spread is not None:
        configuration["dueDateSpreadSeconds"] = spread
        configuration["spreadStart"] = format_date(utcnow())
    return configuration


def spread_due_dates(ids, start, seconds, position):
    """A20: element ``i`` of ``n`` is due at ``start + i * seconds / n`` (ms precision), so the
    batch's jobs become due evenly over the spread; ``ids`` are the slice's, ascending."""
    total = max(position.total, 1)
    return {job_id: truncate_ms(start + timedelta(seconds=(position.offset + index) * seconds / total))
            for index, job_id in enumerate(ids)}


def apply_slice(ids, configuration, position):
    """Set the retries (and the due date, when the request had one or a spread) on the jobs that
    still exist."""
    due_date = _fixed_due_date(configuration)
    if "dueDateSpreadSeconds" in configuration:
        due_date = spread_due_dates(ids, parse_date(configuration["spreadStart"]),
                                    configuration["dueDateSpreadSeconds"], position)
    result = set_job_retries(ids, configuration["retries"], due_date, revived_by=configuration.get("batchId"))
    return SliceResult(updated=result.updated, missing=result.missing)


def _fixed_due_date(configuration):
    if configuration.get("dueDateSet"):
        raw = configuration.get("dueDate")
        return None if raw is None else parse_date(raw)
    return UNSET


def apply_stored_slice(stored_ids, configuration):
    """The slice in one statement on its stored ids (the engine's fast path): retries above 0
    and no spread; returns how many jobs it updated, or None when this slice needs
    :func:`apply_slice` (retries 0 creates incidents per id; a spread dates each id)."""
    if configuration["retries"] <= 0 or "dueDateSpreadSeconds" in configuration:
        return None
    return revive_stored_ids(stored_ids, configuration["retries"], _fixed_due_date(configuration),
                             revived_by=configuration.get("batchId"))


def log_creation(request, elements):
    """Camunda's entries for an async set-retries (C.9.3): three rows, no ids, no due date."""
    audit.log_operation(audit.SET_JOB_RETRIES, audit.JOB, [
        ("nrOfInstances", None, elements), ("async", None, True), ("retries", None, request.retries)])


# Registered with its execution handler by app.services.batches.handlers.
SET_JOB_RETRIES = BatchType(
    name=BATCH_TYPE_SET_JOB_RETRIES,
    empty_selection_message=EMPTY_SELECTION,
    selection=selection,
    validate=validate,
    configuration=configuration,
    apply_slice=apply_slice,
    apply_stored_slice=apply_stored_slice,
    create_permission="CREATE_BATCH_SET_JOB_RETRIES",
    authorize=authorize,
    element_conditions=element_conditions,
    slice_position=True,
    log_creation=log_creation,
)
