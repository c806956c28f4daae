"""Bodies of the synchronous single-job operations (spec B.3.5, B.6.2) and ``PUT /job/suspended``.

Command schemas (schemas.common.CommandSchema): the first failing check answers, with
Camunda's message or one that names the property (spec A2), in Camunda's order. Presence
matters: ``dueDate`` absent, a date or ``null`` are three different requests, so the field has
no ``load_default`` and an absent ``dueDate`` stays out of the loaded dict.
"""

from dataclasses import dataclass

from marshmallow import ValidationError, post_load, validates_schema

from app.core.errors import RestException
from schemas.common import CommandSchema, context_value
from schemas.fields import LONG_MAX, LONG_MIN, DueDate, JavaInteger, JsonBoolean, Text


@dataclass
class RetriesRequest:
    """``{retries, dueDate?}`` (RetriesDto / JobRetriesDto)."""

    retries: int
    due_date_set: bool  # False: leave due dates alone; True: set them to ``due_date`` (maybe None)
    due_date: object


def _non_negative_retries(retries):
    # A separate check after the int range, so that a negative value gets the engine's message.
    if retries < 0:
        raise ValidationError(
            f"The number of job retries must be a non-negative Integer, but '{retries}' has been provided.")


class RetriesSchema(CommandSchema):
    """``PUT /job/{id}/retries`` and ``PUT /job-definition/{id}/retries``."""

    example = '{"retries": 3}'

    retries = JavaInteger(required=True, validate=_non_negative_retries,
                          error_messages={"required": "retries is null", "null": "retries is null"})
    due_date = DueDate(data_key="dueDate", allow_none=True)

    @post_load
    def _request(self, loaded, **kwargs):
        return RetriesRequest(retries=loaded["retries"], due_date_set="due_date" in loaded,
                              due_date=loaded.get("due_date"))


@dataclass
class DuedateRequest:
    """``{duedate, cascade}`` (JobDuedateDto)."""

    due_date: object
    cascade: bool


class DuedateSchema(CommandSchema):
    """``PUT /job/{id}/duedate``: ``duedate`` absent or null clears the due date, as in Camunda;
    an empty body is refused. ``cascade`` is read first."""

    example = '{"duedate": "2024-01-31T13:45:00.000+0000", "cascade": false}'
    empty_body_is_empty_object = False

    cascade = JsonBoolean(allow_none=True)
    due_date = DueDate(data_key="duedate", allow_none=True)

    @post_load
    def _request(self, loaded, **kwargs):
        return DuedateRequest(due_date=loaded.get("due_date"), cascade=bool(loaded.get("cascade")))


class PrioritySchema(CommandSchema):
    """``PUT /job/{id}/priority`` (PriorityDto); loads the priority (a Java long)."""

    example = '{"priority": 10}'

    priority = JavaInteger(LONG_MIN, LONG_MAX)

    def check_first(self, body):
        # Camunda's resource checks this before the engine sees the value, as a RestException.
        if body.get("priority") is None:
            raise RestException(f"Priority for job '{context_value('job_id')}' cannot be null.")

    @post_load
    def _priority(self, loaded, **kwargs):
        return loaded["priority"]


# Camunda's DTO has a primitive boolean, so a missing value silently means "activate"; we ask
# for it instead (an accidental {} should not resume jobs).
SUSPENDED_IS_NULL = "suspended is null; send true to suspend or false to activate"


class SuspendedSchema(CommandSchema):
    """``PUT /job/{id}/suspended``; loads the flag."""

    example = '{"suspended": true}'

    suspended = JsonBoolean(required=True,
                            error_messages={"required": SUSPENDED_IS_NULL, "null": SUSPENDED_IS_NULL})

    @post_load
    def _suspended(self, loaded, **kwargs):
        return loaded["suspended"]


# The selectors of JobSuspensionStateDto, in Camunda's order: wire name -> loaded name.
SELECTORS = {
    "jobDefinitionId": "job_definition_id",
    "processInstanceId": "process_instance_id",
    "processDefinitionId": "process_definition_id",
    "processDefinitionKey": "process_definition_key",
}


@dataclass
class SuspensionRequest:
    selector: str  # a wire name of SELECTORS
    value: str
    suspended: bool
    tenant_id: str | None = None
    without_tenant_id: bool = False


class SuspensionBySelectorSchema(CommandSchema):
    """``PUT /job/suspended``, checked in JobRestServiceImpl / JobSuspensionStateDto order:
    the properties' types, then which selector is given, then ``suspended``."""

    example = '{"processInstanceId": "...", "suspended": true}'

    job_id = Text(data_key="jobId", allow_none=True)
    job_definition_id = Text(data_key="jobDefinitionId", allow_none=True)
    process_instance_id = Text(data_key="processInstanceId", allow_none=True)
    process_definition_id = Text(data_key="processDefinitionId", allow_none=True)
    process_definition_key = Text(data_key="processDefinitionKey", allow_none=True)
    tenant_id = Text(data_key="processDefinitionTenantId", allow_none=True)
    without_tenant_id = JsonBoolean(data_key="processDefinitionWithoutTenantId", allow_none=True)
    suspended = JsonBoolean(allow_none=True)

    @validates_schema
    def _one_selector_and_a_state(self, loaded, **kwargs):
        if loaded.get("job_id") is not None:
            raise ValidationError("Either jobDefinitionId, processInstanceId, processDefinitionId or "
                                  "processDefinitionKey can be set to update the suspension state.")
        given = self._selectors(loaded)
        if len(given) > 1:
            raise ValidationError("Only one of jobId, jobDefinitionId, processInstanceId, processDefinitionId or "
                                  "processDefinitionKey should be set to update the suspension state.")
        if not given:
            raise ValidationError("Either jobId, jobDefinitionId, processInstanceId, processDefinitionId or "
                                  "processDefinitionKey should be set to update the suspension state.")
        if loaded.get("suspended") is None:
            raise ValidationError(SUSPENDED_IS_NULL)

    @staticmethod
    def _selectors(loaded):
        """The selectors given (not null), by wire name."""
        return [name for name, key in SELECTORS.items() if loaded.get(key) is not None]

    @post_load
    def _request(self, loaded, **kwargs):
        [selector] = self._selectors(loaded)
        request = SuspensionRequest(selector=selector, value=loaded[SELECTORS[selector]],
                                    suspended=loaded["suspended"])
        if selector == "processDefinitionKey":
            # As in Camunda's DTO: the tenant options only refine the key variant, and a tenant id
            # wins over processDefinitionWithoutTenantId.
            request.tenant_id = loaded.get("tenant_id")
            request.without_tenant_id = request.tenant_id is None and bool(loaded.get("without_tenant_id"))
        return request
