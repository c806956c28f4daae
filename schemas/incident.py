"""Camunda's incident query (``GET /incident``, ``/incident/count``) and IncidentDto out.

Our incidents are all root causes (a failed job has no cause chain), so ``causeIncidentId``
and ``rootCauseIncidentId`` are the incident's own id, and ``annotation`` is always null.
"""

from marshmallow import fields

from app.core.dates import format_date
from schemas.common import (
    BaseSchema,
    ResourceQuery,
    StringList,
    check_sort_pair,
    check_sort_values,
    convert_args,
    load_or_400,
    resolve_ordering,
    split_list_dropping_empty,
)

# sortBy value -> incident column
SORT_KEYS = {
    "incidentId": "id",
    "incidentMessage": "incident_message",
    "incidentTimestamp": "incident_timestamp",
    "incidentType": "incident_type",
    "executionId": "execution_id",
    "activityId": "activity_id",
    "processInstanceId": "process_instance_id",
    "processDefinitionId": "process_definition_id",
    "causeIncidentId": "id",
    "rootCauseIncidentId": "id",
    "configuration": "configuration",
    "tenantId": "tenant_id",
}


def incident_dto(row, zone="UTC"):
    """The 15-key IncidentDto, nulls present."""
    return {
        "id": row["id"],
        "processDefinitionId": row["process_definition_id"],
        "processInstanceId": row["process_instance_id"],
        "executionId": row["execution_id"],
        "incidentTimestamp": format_date(row["incident_timestamp"], zone),
        "incidentType": row["incident_type"],
        "activityId": row["activity_id"],
        "failedActivityId": row["failed_activity_id"],
        "causeIncidentId": row["id"],
        "rootCauseIncidentId": row["id"],
        "configuration": row["configuration"],
        "tenantId": row["tenant_id"],
        "incidentMessage": row["incident_message"],
        "jobDefinitionId": row["job_definition_id"],
        "annotation": None,
    }


class IncidentQuery(ResourceQuery):
    """A validated incident query."""


GET_PARAMS = {
    "incidentId": "str",
    "incidentType": "str",
    "incidentMessage": "str",
    "incidentMessageLike": "str",
    "processDefinitionId": "str",
    "processInstanceId": "str",
    "executionId": "str",
    "incidentTimestampBefore": "date",
    "incidentTimestampAfter": "date",
    "activityId": "str",
    "failedActivityId": "str",
    "causeIncidentId": "str",
    "rootCauseIncidentId": "str",
    "configuration": "str",
    "tenantIdIn": split_list_dropping_empty,
    "jobDefinitionId": "str",
    "jobDefinitionIdIn": split_list_dropping_empty,
    "sortBy": "str",
    "sortOrder": "str",
}


class IncidentQuerySchema(BaseSchema):
    incident_id = fields.String(data_key="incidentId", allow_none=True)
    incident_type = fields.String(data_key="incidentType", allow_none=True)
    incident_message = fields.String(data_key="incidentMessage", allow_none=True)
    incident_message_like = fields.String(data_key="incidentMessageLike", allow_none=True)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_instance_id = fields.String(data_key="processInstanceId", allow_none=True)
    execution_id = fields.String(data_key="executionId", allow_none=True)
    # Already datetimes: convert_args parsed them with Camunda's message on failure.
    incident_timestamp_before = fields.Raw(data_key="incidentTimestampBefore", allow_none=True)
    incident_timestamp_after = fields.Raw(data_key="incidentTimestampAfter", allow_none=True)
    activity_id = fields.String(data_key="activityId", allow_none=True)
    failed_activity_id = fields.String(data_key="failedActivityId", allow_none=True)
    cause_incident_id = fields.String(data_key="causeIncidentId", allow_none=True)
    root_cause_incident_id = fields.String(data_key="rootCauseIncidentId", allow_none=True)
    configuration = fields.String(allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True)
    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    job_definition_id_in = StringList(data_key="jobDefinitionIdIn", allow_none=True)
    sort_by = fields.String(data_key="sortBy", allow_none=True)
    sort_order = fields.String(data_key="sortOrder", allow_none=True)


_SCHEMA = IncidentQuerySchema()


def incident_query_from_args(args):
    """A GET request's parameters (Camunda has no POST variant of the incident query)."""
    loaded = load_or_400(_SCHEMA, convert_args(args, GET_PARAMS))
    check_sort_values(loaded.get("sort_by"), loaded.get("sort_order"), SORT_KEYS, from_get=True)
    filters = {key: value for key, value in loaded.items()
               if key not in ("sort_by", "sort_order") and value is not None and value != []}
    check_sort_pair(loaded.get("sort_by"), loaded.get("sort_order"))
    ordering = resolve_ordering(loaded.get("sort_by"), loaded.get("sort_order"), None, SORT_KEYS)
    return IncidentQuery(filters=filters, ordering=ordering)
