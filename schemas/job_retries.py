"""``POST /job/retries`` (SetJobRetriesDto, spec B.3.1) validated in Camunda's order (B.3.2 + A1).

The two checks that come after the loader's in Camunda's order need the selection: an empty
selection ("jobIds is empty") and then negative retries. The set-job-retries batch type makes
them (app.services.batches.set_job_retries), before anything is written.
"""

from dataclasses import dataclass

from app.core.dates import DateParseError, parse_date
from app.core.errors import InvalidRequest
from app.core.text import is_storable
from schemas.job_query import job_query_from_json


@dataclass
class SetJobRetriesRequest:
    retries: int
    job_ids: list | None
    job_query: object | None
    due_date_set: bool
    due_date: object | None


def _retries(value):
    # Jackson coerces "5" to 5; anything that is not a whole number is refused.
    if isinstance(value, bool):
        raise InvalidRequest(f"retries must be an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidRequest(f"retries must be an integer, got {value!r}") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidRequest(f"retries must be an integer, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise InvalidRequest(f"retries must be an integer, got {value!r}")
    if value > 2**31 - 1:
        raise InvalidRequest(f"retries must be at most {2**31 - 1}, got {value}")
    return value


def load_set_job_retries(body):
    if body is None:
        raise InvalidRequest("setJobRetriesDto is null")
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object with retries and jobIds and/or jobQuery")
    if body.get("retries") is None:
        raise InvalidRequest("retries is null")
    retries = _retries(body["retries"])
    job_ids = body.get("jobIds")
    if job_ids is not None and (not isinstance(job_ids, list) or not all(isinstance(i, str) for i in job_ids)):
        raise InvalidRequest("jobIds must be an array of job id strings")
    for index, job_id in enumerate(job_ids or ()):
        # An id no job can have (and the database cannot store) is a 400, not a 500 (A2).
        if len(job_id) > 64 or not is_storable(job_id):
            raise InvalidRequest(f"jobIds[{index}] is not a possible job id: at most 64 characters "
                                 "of valid Unicode text without NUL")
    due_date_set = "dueDate" in body
    due_date = None
    if due_date_set and body["dueDate"] is not None:
        try:
            due_date = parse_date(body["dueDate"])
        except DateParseError:
            raise InvalidRequest(
                f"Invalid due date format: Cannot convert value \"{body['dueDate']}\" to java type java.util.Date"
            ) from None
    job_query = None
    if body.get("jobQuery") is not None:
        job_query = job_query_from_json(body["jobQuery"], prefix="jobQuery.")
    if not job_ids and job_query is None:
        raise InvalidRequest("You must specify at least one of jobIds or jobQuery.")
    return SetJobRetriesRequest(retries=retries, job_ids=job_ids or None, job_query=job_query,
                                due_date_set=due_date_set, due_date=due_date)
