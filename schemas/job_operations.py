"""Bodies of the synchronous single-job operations (spec B.3.5, B.6.2) and ``PUT /job/suspended``.

Plain dict validation rather than marshmallow: the contract depends on *presence* (``dueDate``
absent, a value, or ``null`` are three different requests) and on Camunda's check order, which
a schema would blur. Every wrong JSON type is a 400 that names the field (spec A2).
"""

from dataclasses import dataclass

from app.core.dates import DateParseError, parse_date
from app.core.errors import InvalidRequest, RestException
from app.core.text import is_storable
from schemas.common import INT_MAX, LONG_MAX, LONG_MIN

_NOT_OBJECT = "The request body must be a JSON object, e.g. {example}"


def _object(body, example, empty_means_empty=True):
    """The body as a dict; an empty body counts as ``{}`` where Camunda's DTO would be all nulls."""
    if body is None and empty_means_empty:
        return {}
    if not isinstance(body, dict):
        raise InvalidRequest(_NOT_OBJECT.format(example=example))
    return body


def integer(name, value, low, high):
    """A JSON integer (Jackson also takes ``"5"`` and ``5.0``); booleans and fractions are refused."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip(), 10)
        except ValueError:
            raise InvalidRequest(f"{name} must be an integer, got {value!r}") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidRequest(f"{name} must be an integer, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}, got {value}")
    return value


def boolean(name, value):
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name} must be true or false, got {value!r}")
    return value


def optional_string(name, value):
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string, got {value!r}")
    if value is not None and not is_storable(value):
        raise InvalidRequest(f"{name} must not contain NUL characters or lone surrogates")
    return value


def date_or_null(value):
    if value is None:
        return None
    try:
        return parse_date(value)
    except DateParseError:
        raise InvalidRequest(
            f'Invalid due date format: Cannot convert value "{value}" to java type java.util.Date') from None


# --- {retries, dueDate?} (RetriesDto / JobRetriesDto) -------------------------------------

@dataclass
class RetriesRequest:
    retries: int
    due_date_set: bool  # False: leave due dates alone; True: set them to ``due_date`` (maybe None)
    due_date: object


def load_retries(body):
    """``PUT /job/{id}/retries`` and ``PUT /job-definition/{id}/retries``."""
    body = _object(body, '{"retries": 3}')
    if body.get("retries") is None:
        raise InvalidRequest("retries is null")
    # Negative values pass the int range check first so that the engine's own message is used.
    retries = integer("retries", body["retries"], -(2**31), INT_MAX)
    if retries < 0:
        raise InvalidRequest(
            f"The number of job retries must be a non-negative Integer, but '{retries}' has been provided.")
    due_date_set = "dueDate" in body
    due_date = date_or_null(body["dueDate"]) if due_date_set else None
    return RetriesRequest(retries=retries, due_date_set=due_date_set, due_date=due_date)


# --- {duedate, cascade} (JobDuedateDto) ---------------------------------------------------

@dataclass
class DuedateRequest:
    due_date: object
    cascade: bool


def load_duedate(body):
    """``PUT /job/{id}/duedate``: ``duedate`` absent or null clears the due date, as in Camunda."""
    body = _object(body, '{"duedate": "2024-01-31T13:45:00.000+0000", "cascade": false}',
                   empty_means_empty=False)
    cascade = body.get("cascade")
    cascade = False if cascade is None else boolean("cascade", cascade)
    return DuedateRequest(due_date=date_or_null(body.get("duedate")), cascade=cascade)


# --- {priority} (PriorityDto) ---------------------------------------------------------------

def load_priority(body, job_id):
    body = _object(body, '{"priority": 10}')
    if body.get("priority") is None:
        raise RestException(f"Priority for job '{job_id}' cannot be null.")
    return integer("priority", body["priority"], LONG_MIN, LONG_MAX)


# --- {suspended} and the selectors of PUT /job/suspended (JobSuspensionStateDto) ---------

def _suspended(body):
    # Camunda's DTO has a primitive boolean, so a missing value silently means "activate";
    # we ask for it instead (an accidental {} should not resume jobs).
    if body.get("suspended") is None:
        raise InvalidRequest("suspended is null; send true to suspend or false to activate")
    return boolean("suspended", body["suspended"])


def load_suspended(body):
    """``PUT /job/{id}/suspended``."""
    return _suspended(_object(body, '{"suspended": true}'))


SELECTORS = ("jobDefinitionId", "processInstanceId", "processDefinitionId", "processDefinitionKey")


@dataclass
class SuspensionRequest:
    selector: str  # one of SELECTORS
    value: str
    suspended: bool
    tenant_id: str | None = None
    without_tenant_id: bool = False


def load_suspension_by_selector(body):
    """``PUT /job/suspended``, checked in JobRestServiceImpl / JobSuspensionStateDto order."""
    body = _object(body, '{"processInstanceId": "...", "suspended": true}')
    for name in ("jobId",) + SELECTORS + ("processDefinitionTenantId",):
        optional_string(name, body.get(name))
    without_tenant = body.get("processDefinitionWithoutTenantId")
    without_tenant = False if without_tenant is None else boolean("processDefinitionWithoutTenantId", without_tenant)
    if body.get("suspended") is not None:
        boolean("suspended", body["suspended"])
    if body.get("jobId") is not None:
        raise InvalidRequest("Either jobDefinitionId, processInstanceId, processDefinitionId or "
                             "processDefinitionKey can be set to update the suspension state.")
    given = [name for name in SELECTORS if body.get(name) is not None]
    if len(given) > 1:
        raise InvalidRequest("Only one of jobId, jobDefinitionId, processInstanceId, processDefinitionId or "
                             "processDefinitionKey should be set to update the suspension state.")
    if not given:
        raise InvalidRequest("Either jobId, jobDefinitionId, processInstanceId, processDefinitionId or "
                             "processDefinitionKey should be set to update the suspension state.")
    request = SuspensionRequest(selector=given[0], value=body[given[0]], suspended=_suspended(body))
    if request.selector == "processDefinitionKey":
        # As in Camunda's DTO: the tenant options only refine the key variant, and a tenant id
        # wins over processDefinitionWithoutTenantId.
        request.tenant_id = body.get("processDefinitionTenantId")
        request.without_tenant_id = request.tenant_id is None and without_tenant
    return request
