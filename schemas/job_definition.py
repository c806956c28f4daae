"""Camunda's JobDefinitionQueryDto (GET parameters and POST bodies) and JobDefinitionDto out."""

from marshmallow import fields

from schemas.common import (
    QueryBodySchema,
    ResourceQuery,
    StrictBoolean,
    StringList,
    check_sort_pair,
    check_sort_values,
    convert_args,
    load_or_400,
    resolve_ordering,
    split_list_dropping_empty,
)

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


GET_PARAMS = {
    "jobDefinitionId": "str",
    "jobDefinitionIds": split_list_dropping_empty,
    "activityIdIn": split_list_dropping_empty,
    "processDefinitionId": "str",
    "processDefinitionKey": "str",
    "jobType": "str",
    "jobConfiguration": "str",
    "active": "bool",
    "suspended": "bool",
    "withOverridingJobPriority": "bool",
    "tenantIdIn": split_list_dropping_empty,
    "withoutTenantId": "bool",
    "includeJobDefinitionsWithoutTenantId": "bool",
    "sortBy": "str",
    "sortOrder": "str",
}


class JobDefinitionQuerySchema(QueryBodySchema):
    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    job_definition_ids = StringList(data_key="jobDefinitionIds", allow_none=True)
    activity_id_in = StringList(data_key="activityIdIn", allow_none=True)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_definition_key = fields.String(data_key="processDefinitionKey", allow_none=True)
    job_type = fields.String(data_key="jobType", allow_none=True)
    job_configuration = fields.String(data_key="jobConfiguration", allow_none=True)
    active = StrictBoolean(allow_none=True)
    suspended = StrictBoolean(allow_none=True)
    with_overriding_job_priority = StrictBoolean(data_key="withOverridingJobPriority", allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True)
    without_tenant_id = StrictBoolean(data_key="withoutTenantId", allow_none=True)
    include_without_tenant_id = StrictBoolean(data_key="includeJobDefinitionsWithoutTenantId", allow_none=True)
    resource = "job definition query"
    example = '{"suspended": true}'


_SCHEMA = JobDefinitionQuerySchema()
TRUE_ONLY = ("active", "suspended", "with_overriding_job_priority", "without_tenant_id",
             "include_without_tenant_id")


def _build(loaded, from_get):
    check_sort_values(loaded.get("sort_by"), loaded.get("sort_order"), SORT_KEYS, from_get)
    filters = {}
    for key, value in loaded.items():
        if key in ("sort_by", "sort_order", "sorting") or value is None:
            continue
        if key in TRUE_ONLY:
            if value is True:
                filters[key] = True
            continue
        if isinstance(value, list) and not value:
            continue
        filters[key] = value
    if filters.get("without_tenant_id"):
        filters.pop("tenant_id_in", None)
        filters.pop("include_without_tenant_id", None)
    elif "tenant_id_in" not in filters:
        filters.pop("include_without_tenant_id", None)
    if filters.get("suspended"):
        filters.pop("active", None)  # one suspension state; Camunda's later suspended() call wins
    check_sort_pair(loaded.get("sort_by"), loaded.get("sort_order"))
    ordering = resolve_ordering(loaded.get("sort_by"), loaded.get("sort_order"), loaded.get("sorting"), SORT_KEYS)
    return JobDefinitionQuery(filters=filters, ordering=ordering)


def job_definition_query_from_args(args):
    return _build(load_or_400(_SCHEMA, convert_args(args, GET_PARAMS)), from_get=True)


def job_definition_query_from_json(body):
    return _build(load_or_400(_SCHEMA, {} if body is None else body), from_get=False)
