"""``POST /job/retries`` (SetJobRetriesDto, spec B.3.1) validated in Camunda's order (B.3.2 + A1).

A command schema (schemas.common.CommandSchema): the first failing check answers. The body,
then ``retries``, ``jobIds``, ``dueDate`` (the fields, in this order), then ``jobQuery`` and
the selection: the job query is loaded only once the fields are valid, because its checks
raise at once and would otherwise answer before an earlier property's ("retries is null").

The two checks that come after these in Camunda's order need the selection: an empty
selection ("jobIds is empty") and then negative retries. The set-job-retries batch type makes
them (app.services.batches.set_job_retries), before anything is written.

Our extensions (A20): ``jobQuery`` refuses a property it does not know (a typo would otherwise
widen the selection silently), while the top level stays lenient as Camunda's; the optional
``dueDateSpreadSeconds`` (not with ``dueDate``). ``POST /process-instance/job-retries``
(:class:`SetJobRetriesByProcessSchema`, spec C.5) shares the fields and the order.
"""

from dataclasses import dataclass

from marshmallow import ValidationError, fields, post_load

from app.core.errors import InvalidRequest
from app.core.text import is_storable
from schemas.common import CommandSchema
from schemas.fields import INT_MAX, DueDate, JavaInteger
from schemas.job_query import job_query_from_json, job_query_properties

MAX_JOB_ID_LENGTH = 64  # the job table's id column
MAX_SPREAD_SECONDS = 30 * 24 * 3600
SPREAD_WITH_DUE_DATE = "dueDateSpreadSeconds cannot be used together with dueDate"


@dataclass
class SetJobRetriesRequest:
    retries: int
    job_ids: list | None
    job_query: object | None
    due_date_set: bool
    due_date: object | None
    due_date_spread_seconds: int | None = None


class _Ids(fields.Field):
    """An array of ids; an id no row can have (and the database cannot store) is a 400, not a
    500 (A2)."""

    what = "job"

    def _deserialize(self, value, attr, data, **kwargs):
        name = self.data_key or attr
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(f"{name} must be an array of {self.what} id strings")
        for index, item in enumerate(value):
            if len(item) > MAX_JOB_ID_LENGTH or not is_storable(item):
                raise ValidationError(f"{name}[{index}] is not a possible {self.what} id: at most "
                                      f"{MAX_JOB_ID_LENGTH} characters of valid Unicode text without NUL")
        return value


class _JobIds(_Ids):
    pass


class _ProcessInstanceIds(_Ids):
    what = "process instance"


def check_known_job_query_properties(job_query):
    """A20: the first property of ``jobQuery`` that the job query does not have is a 400."""
    if isinstance(job_query, dict):
        known = job_query_properties()
        for key in job_query:
            if key not in known:
                raise InvalidRequest(f"Unknown property '{key}' in jobQuery")


def _spread_and_due_date(loaded):
    """``dueDateSpreadSeconds`` sets the due dates itself: ``dueDate`` beside it is a 400 (A20)."""
    spread = loaded.get("due_date_spread_seconds")
    if spread is not None and "due_date" in loaded:
        raise InvalidRequest(SPREAD_WITH_DUE_DATE)
    return spread


def _spread_field():
    return JavaInteger(data_key="dueDateSpreadSeconds", low=1, high=MAX_SPREAD_SECONDS, allow_none=True)


class _SetRetriesAsyncSchema(CommandSchema):
    """What both set-retries-async bodies share: ``retries`` first (Camunda's first check), and
    Camunda's message for a JSON ``null`` body."""

    empty_body_is_empty_object = False

    # No lower bound: a negative count gets Camunda's message after the selection is checked.
    retries = JavaInteger(low=None, high=INT_MAX, required=True,
                          error_messages={"required": "retries is null", "null": "retries is null"})

    def from_json(self, body):
        if body is None:
            raise InvalidRequest("setJobRetriesDto is null")
        return super().from_json(body)


class SetJobRetriesSchema(_SetRetriesAsyncSchema):
    """``POST /job/retries`` (and ``flask jobs retries``); loads a :class:`SetJobRetriesRequest`."""

    not_an_object = "The body must be a JSON object with retries and jobIds and/or jobQuery"

    # The metadata: what the API document says (app.api.openapi_document).
    job_ids = _JobIds(data_key="jobIds", allow_none=True, metadata={
        "type": "array", "items": {"type": "string", "maxLength": MAX_JOB_ID_LENGTH}})
    due_date = DueDate(data_key="dueDate", allow_none=True)
    due_date_spread_seconds = _spread_field()
    job_query = fields.Raw(data_key="jobQuery", allow_none=True, metadata={
        "type": "object", "description": "A job query, as the body of POST /job"})

    @post_load
    def _request(self, loaded, **kwargs):
        spread = _spread_and_due_date(loaded)
        job_query = loaded.get("job_query")
        if job_query is not None:
            check_known_job_query_properties(job_query)
            job_query = job_query_from_json(job_query, prefix="jobQuery.")
        job_ids = loaded.get("job_ids") or None
        if job_ids is None and job_query is None:
            raise InvalidRequest("You must specify at least one of jobIds or jobQuery.")
        return SetJobRetriesRequest(retries=loaded["retries"], job_ids=job_ids, job_query=job_query,
                                    due_date_set="due_date" in loaded, due_date=loaded.get("due_date"),
                                    due_date_spread_seconds=spread)


# --- POST /process-instance/job-retries (spec C.5, A20) ----------------------------------------

NO_PROCESSES = ("You must specify at least one of or one of processInstanceIds, processInstanceQuery, "
                "or historicProcessInstanceQuery.")

# The properties of Camunda's ProcessInstanceQueryDto that the job rows can answer (a job carries
# its process instance's id, definition, deployment and tenant), with the type of their value.
_PROCESS_INSTANCE_FILTERS = {
    "processInstanceIds": "list", "processDefinitionId": "text", "processDefinitionKey": "text",
    "processDefinitionKeyIn": "list", "processDefinitionKeyNotIn": "list", "deploymentId": "text",
    "tenantIdIn": "list", "withoutTenantId": "flag",
}
# Sorting means nothing to a set of jobs; accepted and ignored.
_PROCESS_INSTANCE_IGNORED = ("sortBy", "sortOrder", "sorting")


@dataclass
class SetJobRetriesByProcessRequest:
    retries: int
    process_instance_ids: list | None
    # Camunda's property name -> value, only those of _PROCESS_INSTANCE_FILTERS; None: no query.
    process_instance_query: dict | None
    due_date_set: bool
    due_date: object | None
    due_date_spread_seconds: int | None = None


def _process_instance_query(query):
    """The filters of a ``processInstanceQuery``; a property the job rows cannot answer is a 400
    that says so (A20), a value of the wrong type a 400 naming it."""
    if not isinstance(query, dict):
        raise InvalidRequest("processInstanceQuery must be a JSON object, e.g. {\"processDefinitionKey\": \"invoice\"}")
    filters = {}
    for key, value in query.items():
        if key in _PROCESS_INSTANCE_IGNORED:
            continue
        kind = _PROCESS_INSTANCE_FILTERS.get(key)
        if kind is None:
            raise InvalidRequest(
                f"processInstanceQuery.{key} cannot be answered from the jobs: only "
                f"{', '.join(_PROCESS_INSTANCE_FILTERS)} are supported here")
        if value is None or value == []:
            continue  # no filter, as in every query of ours
        valid = {"list": lambda v: isinstance(v, list) and all(isinstance(i, str) and is_storable(i) for i in v),
                 "text": lambda v: isinstance(v, str) and is_storable(v),
                 "flag": lambda v: isinstance(v, bool)}[kind]
        if not valid(value):
            expected = {"list": "an array of strings", "text": "a string", "flag": "true or false"}[kind]
            raise InvalidRequest(f"processInstanceQuery.{key} must be {expected}")
        if kind == "flag" and not value:
            continue
        filters[key] = value
    return filters


class SetJobRetriesByProcessSchema(_SetRetriesAsyncSchema):
    """``POST /process-instance/job-retries`` (SetJobRetriesByProcessDto); loads a
    :class:`SetJobRetriesByProcessRequest`. ``jobIds``/``jobQuery`` are ignored as in Camunda."""

    not_an_object = ("The body must be a JSON object with retries and processInstances and/or "
                     "processInstanceQuery")

    process_instances = _ProcessInstanceIds(data_key="processInstances", allow_none=True)
    due_date = DueDate(data_key="dueDate", allow_none=True)
    due_date_spread_seconds = _spread_field()
    process_instance_query = fields.Raw(data_key="processInstanceQuery", allow_none=True)

    @post_load
    def _request(self, loaded, **kwargs):
        spread = _spread_and_due_date(loaded)
        query = loaded.get("process_instance_query")
        if query is not None:
            query = _process_instance_query(query)
        ids = loaded.get("process_instances") or None
        if ids is None and query is None:
            raise InvalidRequest(NO_PROCESSES)
        return SetJobRetriesByProcessRequest(
            retries=loaded["retries"], process_instance_ids=ids, process_instance_query=query,
            due_date_set="due_date" in loaded, due_date=loaded.get("due_date"), due_date_spread_seconds=spread)
