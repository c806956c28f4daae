"""Camunda's JobDefinitionQueryDto (GET parameters and POST bodies) and JobDefinitionDto out."""

from marshmallow import fields

from schemas.common import dto_schema, split_list_dropping_empty, url
from schemas.fields import StrictBoolean, StringList, bool_out, long_out, text_out
from schemas.query import ResourceQuery, SortableQuerySchema

# sortBy value -> job_definition column
SORT_KEYS = {
    "jobDefinitionId": "id",
    "activityId": "activity_id",
    "processDefinitionId": "process_definition_id",
    "processDefinitionKey": "process_definition_key",
    "jobType": "job_type",
    "jobConfiguration": "job_configuration",
    "tenantId": "tenant_id",
}


JobDefinitionDto = dto_schema("JobDefinitionDto", {
    "id": text_out(nullable=False),
    "processDefinitionId": text_out(),
    "processDefinitionKey": text_out(),
    "activityId": text_out(),
    "jobType": text_out(nullable=False),
    "jobConfiguration": text_out(),
    "overridingJobPriority": long_out(),
    "suspended": bool_out(),
    "tenantId": text_out(),
    "deploymentId": text_out(),
})


def job_definition_dto(row):
    """The 10-key JobDefinitionDto, nulls present."""
    return {
        "id": row["id"],
        "processDefinitionId": row["process_definition_id"],
        "processDefinitionKey": row["process_definition_key"],
        "activityId": row["activity_id"],
        "jobType": row["job_type"],
        "jobConfiguration": row["job_configuration"],
        "overridingJobPriority": row["overriding_priority"],
        "suspended": bool(row["suspended"]),
        "tenantId": row["tenant_id"],
        "deploymentId": row["deployment_id"],
    }


class JobDefinitionQuery(ResourceQuery):
    """A validated job definition query."""


TRUE_ONLY = ("active", "suspended", "with_overriding_job_priority", "without_tenant_id",
             "include_without_tenant_id")
_LIST = url(split_list_dropping_empty)


class JobDefinitionQuerySchema(SortableQuerySchema):
    """``GET /job-definition`` parameters and ``POST /job-definition`` bodies."""

    resource = "job definition query"
    example = '{"suspended": true}'
    query_class = JobDefinitionQuery
    sort_keys = SORT_KEYS
    true_only = TRUE_ONLY

    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    job_definition_ids = StringList(data_key="jobDefinitionIds", allow_none=True, metadata=_LIST)
    activity_id_in = StringList(data_key="activityIdIn", allow_none=True, metadata=_LIST)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_definition_key = fields.String(data_key="processDefinitionKey", allow_none=True)
    job_type = fields.String(data_key="jobType", allow_none=True)
    job_configuration = fields.String(data_key="jobConfiguration", allow_none=True)
    active = StrictBoolean(allow_none=True)
    suspended = StrictBoolean(allow_none=True)
    with_overriding_job_priority = StrictBoolean(data_key="withOverridingJobPriority", allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True, metadata=_LIST)
    without_tenant_id = StrictBoolean(data_key="withoutTenantId", allow_none=True)
    include_without_tenant_id = StrictBoolean(data_key="includeJobDefinitionsWithoutTenantId", allow_none=True)

    def filters(self, loaded):
        filters = super().filters(loaded)
        if filters.get("without_tenant_id"):
            filters.pop("tenant_id_in", None)
            filters.pop("include_without_tenant_id", None)
        elif "tenant_id_in" not in filters:
            filters.pop("include_without_tenant_id", None)
        if filters.get("suspended"):
            filters.pop("active", None)  # one suspension state; Camunda's later suspended() call wins
        return filters
