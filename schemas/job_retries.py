"""``POST /job/retries`` (SetJobRetriesDto, spec B.3.1) validated in Camunda's order (B.3.2 + A1).

A command schema (schemas.common.CommandSchema): the first failing check answers. The body,
then ``retries``, ``jobIds``, ``dueDate`` (the fields, in this order), then ``jobQuery`` and
the selection: the job query is loaded only once the fields are valid, because its checks
raise at once and would otherwise answer before an earlier property's ("retries is null").

The two checks that come after these in Camunda's order need the selection: an empty
selection ("jobIds is empty") and then negative retries. The set-job-retries batch type makes
them (app.services.batches.set_job_retries), before anything is written.
"""

from dataclasses import dataclass

from marshmallow import ValidationError, fields, post_load

from app.core.errors import InvalidRequest
from app.core.text import is_storable
from schemas.common import CommandSchema
from schemas.fields import INT_MAX, DueDate, JavaInteger
from schemas.job_query import job_query_from_json

MAX_JOB_ID_LENGTH = 64  # the job table's id column


@dataclass
class SetJobRetriesRequest:
    retries: int
    job_ids: list | None
    job_query: object | None
    due_date_set: bool
    due_date: object | None


class _JobIds(fields.Field):
    """An array of job ids; an id no job can have (and the database cannot store) is a 400,
    not a 500 (A2)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or not all(isinstance(job_id, str) for job_id in value):
            raise ValidationError("jobIds must be an array of job id strings")
        for index, job_id in enumerate(value):
            if len(job_id) > MAX_JOB_ID_LENGTH or not is_storable(job_id):
                raise ValidationError(f"jobIds[{index}] is not a possible job id: at most {MAX_JOB_ID_LENGTH} "
                                      "characters of valid Unicode text without NUL")
        return value


class SetJobRetriesSchema(CommandSchema):
    """``POST /job/retries`` (and ``flask jobs retries``); loads a :class:`SetJobRetriesRequest`."""

    not_an_object = "The body must be a JSON object with retries and jobIds and/or jobQuery"
    empty_body_is_empty_object = False

    # No lower bound: a negative count gets Camunda's message after the selection is checked.
    retries = JavaInteger(low=None, high=INT_MAX, required=True,
                          error_messages={"required": "retries is null", "null": "retries is null"})
    # The metadata: what the API document says (app.api.openapi_document).
    job_ids = _JobIds(data_key="jobIds", allow_none=True, metadata={
        "type": "array", "items": {"type": "string", "maxLength": MAX_JOB_ID_LENGTH}})
    due_date = DueDate(data_key="dueDate", allow_none=True)
    job_query = fields.Raw(data_key="jobQuery", allow_none=True, metadata={
        "type": "object", "description": "A job query, as the body of POST /job"})

    def from_json(self, body):
        if body is None:
            raise InvalidRequest("setJobRetriesDto is null")
        return super().from_json(body)

    @post_load
    def _request(self, loaded, **kwargs):
        job_query = loaded.get("job_query")
        if job_query is not None:
            job_query = job_query_from_json(job_query, prefix="jobQuery.")
        job_ids = loaded.get("job_ids") or None
        if job_ids is None and job_query is None:
            raise InvalidRequest("You must specify at least one of jobIds or jobQuery.")
        return SetJobRetriesRequest(retries=loaded["retries"], job_ids=job_ids, job_query=job_query,
                                    due_date_set="due_date" in loaded, due_date=loaded.get("due_date"))
