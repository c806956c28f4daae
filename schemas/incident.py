"""Camunda's incident query (``GET /incident``, ``/incident/count``) and IncidentDto out.

Our incidents are all root causes (a failed job has no cause chain), so ``causeIncidentId``
and ``rootCauseIncidentId`` are the incident's own id, and ``annotation`` is always null.
"""

from marshmallow import fields

from app.core.dates import format_date
from schemas.common import dto_schema, split_list_dropping_empty, url, url_date
from schemas.fields import StringList, date_out, text_out
from schemas.query import QuerySchema, ResourceQuery

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


IncidentDto = dto_schema("IncidentDto", {
    "id": text_out(nullable=False),
    "processDefinitionId": text_out(),
    "processInstanceId": text_out(),
    "executionId": text_out(),
    "incidentTimestamp": date_out(),
    "incidentType": text_out(nullable=False),
    "activityId": text_out(),
    "failedActivityId": text_out(),
    "causeIncidentId": text_out(),
    "rootCauseIncidentId": text_out(),
    "configuration": text_out(),
    "tenantId": text_out(),
    "incidentMessage": text_out(),
    "jobDefinitionId": text_out(),
    "annotation": text_out(),
})


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


_LIST = url(split_list_dropping_empty)


class IncidentQuerySchema(QuerySchema):
    """``GET /incident`` parameters (Camunda has no POST variant of the incident query)."""

    query_class = IncidentQuery
    sort_keys = SORT_KEYS

    incident_id = fields.String(data_key="incidentId", allow_none=True)
    incident_type = fields.String(data_key="incidentType", allow_none=True)
    incident_message = fields.String(data_key="incidentMessage", allow_none=True)
    incident_message_like = fields.String(data_key="incidentMessageLike", allow_none=True)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_instance_id = fields.String(data_key="processInstanceId", allow_none=True)
    execution_id = fields.String(data_key="executionId", allow_none=True)
    # Datetimes already: the URL conversion parsed them, with Camunda's message on failure.
    incident_timestamp_before = fields.Raw(data_key="incidentTimestampBefore", allow_none=True, metadata=url(url_date))
    incident_timestamp_after = fields.Raw(data_key="incidentTimestampAfter", allow_none=True, metadata=url(url_date))
    activity_id = fields.String(data_key="activityId", allow_none=True)
    failed_activity_id = fields.String(data_key="failedActivityId", allow_none=True)
    cause_incident_id = fields.String(data_key="causeIncidentId", allow_none=True)
    root_cause_incident_id = fields.String(data_key="rootCauseIncidentId", allow_none=True)
    configuration = fields.String(allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True, metadata=_LIST)
    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    job_definition_id_in = StringList(data_key="jobDefinitionIdIn", allow_none=True, metadata=_LIST)
    sort_by = fields.String(data_key="sortBy", allow_none=True)
    sort_order = fields.String(data_key="sortOrder", allow_none=True)
