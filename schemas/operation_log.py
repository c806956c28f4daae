"""Camunda's UserOperationLogQueryDto (GET parameters) and UserOperationLogEntryDto (C.9).

Every filter is an exact match; ``entityTypeIn`` and ``categoryIn`` are comma-separated lists;
``afterTimestamp`` / ``beforeTimestamp`` are strict bounds. Only ``sortBy=timestamp`` sorts.
Filters on data this service has no part of (case instances, tasks, executions, external
tasks) are accepted and match nothing but their own absence: given, they match no entry.
Text no database can store matches nothing (as an unknown id would).
"""

from marshmallow import fields, post_load, validate

from app.core.dates import format_date
from app.core.text import is_storable
from schemas.common import CommandSchema, split_list_dropping_empty, url, url_date
from schemas.fields import StringList
from schemas.query import QuerySchema, ResourceQuery

SORT_KEYS = {"timestamp": "timestamp"}

# filter (snake_case) -> wire name; the columns have the filter's name (app.services.audit)
_EXACT = ("deployment_id", "process_definition_id", "process_definition_key", "process_instance_id", "job_id",
          "job_definition_id", "batch_id", "user_id", "operation_id", "operation_type", "entity_type",
          "category", "property")
# Camunda filters on things this service never logs: any value matches no entry.
_ABSENT = ("execution_id", "case_definition_id", "case_instance_id", "case_execution_id", "task_id",
           "external_task_id")


class UserOperationLogQuery(ResourceQuery):
    """Validated filters (snake_case) and the ordering ``[(column, "asc"|"desc")]``."""


class UserOperationLogQuerySchema(QuerySchema):
    """``GET /history/user-operation`` and ``/count``."""

    query_class = UserOperationLogQuery
    sort_keys = SORT_KEYS
    refuse_unstorable_text = False

    deployment_id = fields.String(data_key="deploymentId")
    process_definition_id = fields.String(data_key="processDefinitionId")
    process_definition_key = fields.String(data_key="processDefinitionKey")
    process_instance_id = fields.String(data_key="processInstanceId")
    job_id = fields.String(data_key="jobId")
    job_definition_id = fields.String(data_key="jobDefinitionId")
    batch_id = fields.String(data_key="batchId")
    user_id = fields.String(data_key="userId")
    operation_id = fields.String(data_key="operationId")
    operation_type = fields.String(data_key="operationType")
    entity_type = fields.String(data_key="entityType")
    category = fields.String(data_key="category")
    property = fields.String(data_key="property")
    execution_id = fields.String(data_key="executionId")
    case_definition_id = fields.String(data_key="caseDefinitionId")
    case_instance_id = fields.String(data_key="caseInstanceId")
    case_execution_id = fields.String(data_key="caseExecutionId")
    task_id = fields.String(data_key="taskId")
    external_task_id = fields.String(data_key="externalTaskId")
    entity_type_in = StringList(data_key="entityTypeIn", metadata=url(split_list_dropping_empty))
    category_in = StringList(data_key="categoryIn", metadata=url(split_list_dropping_empty))
    # Datetimes already: the URL conversion parsed them, with Camunda's message on failure.
    after_timestamp = fields.Raw(data_key="afterTimestamp", metadata=url(url_date))
    before_timestamp = fields.Raw(data_key="beforeTimestamp", metadata=url(url_date))
    sort_by = fields.String(data_key="sortBy")
    sort_order = fields.String(data_key="sortOrder")

    def filters(self, loaded):
        filters = {name: loaded[name] for name in _EXACT if name in loaded}
        if any(name in loaded for name in _ABSENT):
            filters["match_nothing"] = True
        for name in ("entity_type_in", "category_in"):
            if loaded.get(name):
                filters[name] = sorted(set(loaded[name]))
        for name in ("after_timestamp", "before_timestamp"):
            if name in loaded:
                filters[name] = loaded[name]
        texts = [value for value in filters.values() if isinstance(value, str)]
        texts += [item for name in ("entity_type_in", "category_in") for item in filters.get(name, ())]
        if not all(is_storable(value) for value in texts):
            filters["match_nothing"] = True
        return filters


def user_operation_log_entry_dto(row, zone="UTC"):
    """UserOperationLogEntryDto: its 26 keys in Camunda's order."""
    return {
        "id": row["id"],
        "deploymentId": row["deployment_id"],
        "processDefinitionId": row["process_definition_id"],
        "processDefinitionKey": row["process_definition_key"],
        "processInstanceId": row["process_instance_id"],
        "executionId": None,
        "caseDefinitionId": None,
        "caseInstanceId": None,
        "caseExecutionId": None,
        "taskId": None,
        "jobId": row["job_id"],
        "jobDefinitionId": row["job_definition_id"],
        "batchId": row["batch_id"],
        "userId": row["user_id"],
        "timestamp": format_date(row["timestamp"], zone),
        "operationId": row["operation_id"],
        "externalTaskId": None,
        "operationType": row["operation_type"],
        "entityType": row["entity_type"],
        "property": row["property"],
        "orgValue": row["org_value"],
        "newValue": row["new_value"],
        "removalTime": None,
        "rootProcessInstanceId": None,
        "category": row["category"],
        "annotation": row["annotation"],
    }


class AnnotationSchema(CommandSchema):
    """``PUT .../set-annotation`` (AnnotationDto): ``{"annotation": "..."}``; an empty body or
    a null annotation clears it, as in Camunda. Loads the text or None."""

    example = '{"annotation": "why this was done"}'

    annotation = fields.String(allow_none=True, load_default=None, validate=validate.Length(
        max=4000, error="annotation is longer than 4000 characters"))

    @post_load
    def _text(self, loaded, **kwargs):
        return loaded["annotation"]
