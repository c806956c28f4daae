"""Camunda's HistoricJobLogQueryDto in and HistoricJobLogDto out (spec C.3.2, C.3.3, A19).

The filters are exact matches. Camunda's precedences: of ``creationLog``, ``failureLog``,
``successLog`` and ``deletionLog`` (true-only), the last one applied wins (deletion, success,
failure, creation in that order of strength); ``withoutTenantId`` wins over ``tenantIdIn``;
inverted priority bounds match nothing; an empty item of ``activityIdIn``,
``failedActivityIdIn`` or ``executionIdIn`` is Camunda's 400 ``NotValidException``. Text no
database can store matches nothing (no 400), as an unknown id would.
"""

from marshmallow import fields

from app.core.dates import format_date
from app.core.errors import InvalidRequest
from app.core.text import is_storable
from schemas.common import split_list_param, url
from schemas.fields import Long, StrictBoolean, StringList
from schemas.query import ResourceQuery, SortableQuerySchema

# sortBy value -> job_log column
SORT_KEYS = {
    "timestamp": "timestamp",
    "jobId": "job_id",
    "jobDueDate": "job_due_date",
    "jobRetries": "job_retries",
    "jobPriority": "job_priority",
    "jobDefinitionId": "job_definition_id",
    "activityId": "activity_id",
    "executionId": "execution_id",
    "processInstanceId": "process_instance_id",
    "processDefinitionId": "process_definition_id",
    "processDefinitionKey": "process_definition_key",
    "deploymentId": "deployment_id",
    "occurrence": "id",  # the key grows in insertion order: the events of a job in order (A19)
    "tenantId": "tenant_id",
    "hostname": "hostname",
}

# Flag -> JOB_STATE_, in the order Camunda's DTO applies them (the last true one wins).
STATE_FLAGS = (("creation_log", 0), ("failure_log", 1), ("success_log", 2), ("deletion_log", 3))
# The list filters and the variable name of Camunda's "contains empty string" message.
LIST_FILTERS = (("activity_id_in", "activityIds"), ("failed_activity_id_in", "activityIds"),
                ("execution_id_in", "executionIds"))
_TEXT_FILTERS = (
    "job_id", "job_exception_message", "job_definition_id", "job_definition_type",
    "job_definition_configuration", "process_instance_id", "process_definition_id",
    "process_definition_key", "deployment_id", "hostname",
)


class JobLogQuery(ResourceQuery):
    """Validated filters (snake_case) and the ordering ``[(column, "asc"|"desc")]``."""


def _tenant_list(name, values):
    return [item for value in values if value != "" for item in value.split(",")]


class JobLogQuerySchema(SortableQuerySchema):
    """``GET``/``POST /history/job-log`` and their ``/count``."""

    resource = "historic job log query"
    example = '{"failureLog": true}'
    query_class = JobLogQuery
    sort_keys = SORT_KEYS
    refuse_unstorable_text = False

    log_id = fields.String(data_key="logId", allow_none=True)
    job_id = fields.String(data_key="jobId", allow_none=True)
    job_exception_message = fields.String(data_key="jobExceptionMessage", allow_none=True)
    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    job_definition_type = fields.String(data_key="jobDefinitionType", allow_none=True)
    job_definition_configuration = fields.String(data_key="jobDefinitionConfiguration", allow_none=True)
    activity_id_in = StringList(data_key="activityIdIn", allow_none=True, metadata=url(split_list_param))
    failed_activity_id_in = StringList(data_key="failedActivityIdIn", allow_none=True,
                                       metadata=url(split_list_param))
    execution_id_in = StringList(data_key="executionIdIn", allow_none=True, metadata=url(split_list_param))
    process_instance_id = fields.String(data_key="processInstanceId", allow_none=True)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_definition_key = fields.String(data_key="processDefinitionKey", allow_none=True)
    deployment_id = fields.String(data_key="deploymentId", allow_none=True)
    creation_log = StrictBoolean(data_key="creationLog", allow_none=True)
    failure_log = StrictBoolean(data_key="failureLog", allow_none=True)
    success_log = StrictBoolean(data_key="successLog", allow_none=True)
    deletion_log = StrictBoolean(data_key="deletionLog", allow_none=True)
    job_priority_higher_than_or_equals = Long(data_key="jobPriorityHigherThanOrEquals", allow_none=True)
    job_priority_lower_than_or_equals = Long(data_key="jobPriorityLowerThanOrEquals", allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True, metadata=url(_tenant_list))
    without_tenant_id = StrictBoolean(data_key="withoutTenantId", allow_none=True)
    hostname = fields.String(allow_none=True)

    def filters(self, loaded):
        filters = {}
        unstorable = False
        for name in _TEXT_FILTERS:
            value = loaded.get(name)
            if value is None or (name == "hostname" and value == ""):
                continue
            filters[name] = value
            unstorable = unstorable or not is_storable(value)
        if loaded.get("log_id") is not None:
            log_id = loaded["log_id"]
            if log_id.isascii() and log_id.isdigit() and len(log_id) <= 18:
                filters["log_id"] = int(log_id)
            else:
                unstorable = True  # no log has such an id (A19: ids are decimal numbers)
        for name, variable in LIST_FILTERS:
            values = loaded.get(name)
            if not values:
                continue  # an empty JSON array is no filter
            if any(value == "" for value in values):
                raise InvalidRequest(f"{variable} contains empty string", type="NotValidException")
            filters[name] = sorted(set(values))
            unstorable = unstorable or not all(is_storable(value) for value in values)
        for name, state in STATE_FLAGS:
            if loaded.get(name) is True:
                filters["job_state"] = state
        low = loaded.get("job_priority_higher_than_or_equals")
        high = loaded.get("job_priority_lower_than_or_equals")
        if low is not None:
            filters["priority_min"] = low
        if high is not None:
            filters["priority_max"] = high
        if low is not None and high is not None and low > high:
            unstorable = True  # Camunda: excluding conditions, an empty result
        if loaded.get("without_tenant_id") is True:
            filters["without_tenant_id"] = True
        elif loaded.get("tenant_id_in"):
            tenants = sorted({tenant for tenant in loaded["tenant_id_in"] if is_storable(tenant)})
            filters["tenant_id_in"] = tenants
            unstorable = unstorable or not tenants
        if unstorable:
            filters["match_nothing"] = True
        return filters


def job_log_dto(row, zone="UTC"):
    """The 26-key HistoricJobLogDto, nulls present, in Camunda's order."""
    state = row["job_state"]
    return {
        "id": str(row["id"]),
        "timestamp": format_date(row["timestamp"], zone),
        "removalTime": format_date(row["removal_time"], zone),
        "jobId": row["job_id"],
        "jobDueDate": format_date(row["job_due_date"], zone),
        "jobRetries": row["job_retries"],
        "jobPriority": row["job_priority"],
        "jobExceptionMessage": row["job_exception_message"],
        "jobDefinitionId": row["job_definition_id"],
        "jobDefinitionType": row["job_definition_type"],
        "jobDefinitionConfiguration": row["job_definition_configuration"],
        "activityId": row["activity_id"],
        "failedActivityId": row["failed_activity_id"],
        "executionId": row["execution_id"],
        "processInstanceId": row["process_instance_id"],
        "processDefinitionId": row["process_definition_id"],
        "processDefinitionKey": row["process_definition_key"],
        "deploymentId": row["deployment_id"],
        "tenantId": row["tenant_id"],
        "hostname": row["hostname"],
        "rootProcessInstanceId": row["root_process_instance_id"],
        "batchId": row["batch_id"],
        "creationLog": state == 0,
        "failureLog": state == 1,
        "successLog": state == 2,
        "deletionLog": state == 3,
    }
