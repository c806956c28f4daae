"""Camunda's JobQueryDto (spec B.1.2-B.1.8): GET parameters and POST bodies into one JobQuery.

The checks run in Camunda's order: conversion of each value (GET, in field order) or the
body's types (POST), then (``build``) the top-level sort values, the filters (timers+messages,
date conditions), the sortBy/sortOrder pair and the ordering state machine. The messages are
Camunda's.
"""

import json

from marshmallow import fields

from app.core.dates import DateParseError, parse_date
from app.core.errors import InvalidRequest
from app.core.text import like_pattern_problem
from schemas.common import BaseSchema, load_or_400, query_param_error, split_list_param, url
from schemas.fields import Long, StrictBoolean, StringList
from schemas.query import ResourceQuery, SortableQuerySchema

# sortBy value -> job column name
SORT_KEYS = {
    "jobId": "id",
    "executionId": "execution_id",
    "processInstanceId": "process_instance_id",
    "processDefinitionId": "process_definition_id",
    "processDefinitionKey": "process_definition_key",
    "jobRetries": "retries",
    "jobDueDate": "due_date",
    "jobPriority": "priority",
    "tenantId": "tenant_id",
    # Our extensions (spec A18): Camunda's JobQueryProperty has neither.
    "createTime": "create_time",
    "batchId": "batch_id",
}

# Flags Camunda applies only when true ("true-only", spec B.1.2).
TRUE_ONLY = (
    "with_retries_left", "executable", "timers", "messages", "with_exception", "no_retries_left",
    "active", "suspended", "without_tenant_id", "include_jobs_without_tenant_id", "acquired",
    "retrying",
)


class JobQuery(ResourceQuery):
    """A validated job query: filters (snake_case) and the resolved ordering."""


def _java_split(text, separator):
    """Java's String.split: trailing empty strings are dropped ("gt_" is one piece, not two)."""
    pieces = text.split(separator)
    while len(pieces) > 1 and pieces[-1] == "":
        pieces.pop()
    return [] if pieces == [""] and separator in text else pieces


def _condition_list(name, values):
    """GET ``dueDates=gt_2013-05-05T00:00:00.000%2B0200,lt_...`` -> [{"operator", "value"}]."""
    conditions = []
    for raw in values:
        for part in _java_split(raw, ","):
            pieces = _java_split(part, "_")
            if len(pieces) != 2:
                raise query_param_error(
                    name, raw, reason="condition query parameter has to have format OPERATOR_VALUE.")
            conditions.append({"operator": pieces[0], "value": pieces[1]})
    return conditions


def _tenant_list(name, values):
    """``tenantIdIn=`` (an empty value) is no filter; ``a,,b`` keeps its empty item."""
    return [item for value in values if value != "" for item in value.split(",")]


class ConditionSchema(BaseSchema):
    operator = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True)


class JobQuerySchema(SortableQuerySchema):
    """``GET /job`` parameters and ``POST /job`` bodies (and ``jobQuery`` of set retries)."""

    resource = "job query"
    example = '{"noRetriesLeft": true}'
    query_class = JobQuery
    sort_keys = SORT_KEYS
    true_only = TRUE_ONLY

    job_id = fields.String(data_key="jobId", allow_none=True)
    job_ids = StringList(data_key="jobIds", allow_none=True, metadata=url(split_list_param))
    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    process_instance_id = fields.String(data_key="processInstanceId", allow_none=True)
    process_instance_ids = StringList(data_key="processInstanceIds", allow_none=True, metadata=url(split_list_param))
    execution_id = fields.String(data_key="executionId", allow_none=True)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_definition_key = fields.String(data_key="processDefinitionKey", allow_none=True)
    activity_id = fields.String(data_key="activityId", allow_none=True)
    with_retries_left = StrictBoolean(data_key="withRetriesLeft", allow_none=True)
    executable = StrictBoolean(allow_none=True)
    timers = StrictBoolean(allow_none=True)
    messages = StrictBoolean(allow_none=True)
    due_dates = fields.List(fields.Nested(ConditionSchema), data_key="dueDates", allow_none=True,
                            metadata=url(_condition_list))
    create_times = fields.List(fields.Nested(ConditionSchema), data_key="createTimes", allow_none=True,
                               metadata=url(_condition_list))
    with_exception = StrictBoolean(data_key="withException", allow_none=True)
    exception_message = fields.String(data_key="exceptionMessage", allow_none=True)
    failed_activity_id = fields.String(data_key="failedActivityId", allow_none=True)
    no_retries_left = StrictBoolean(data_key="noRetriesLeft", allow_none=True)
    active = StrictBoolean(allow_none=True)
    suspended = StrictBoolean(allow_none=True)
    priority_higher_than_or_equals = Long(data_key="priorityHigherThanOrEquals", allow_none=True)
    priority_lower_than_or_equals = Long(data_key="priorityLowerThanOrEquals", allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True, metadata=url(_tenant_list))
    without_tenant_id = StrictBoolean(data_key="withoutTenantId", allow_none=True)
    include_jobs_without_tenant_id = StrictBoolean(data_key="includeJobsWithoutTenantId", allow_none=True)
    acquired = StrictBoolean(allow_none=True)
    # Our extensions (spec A18), not in Camunda's JobQueryDto.
    exception_message_like = fields.String(data_key="exceptionMessageLike", allow_none=True)
    retrying = StrictBoolean(allow_none=True)
    batch_id = fields.String(data_key="batchId", allow_none=True)

    def filters(self, loaded):
        filters = super().filters(loaded)
        if filters.get("timers") and filters.get("messages"):
            raise InvalidRequest("Parameter timers cannot be used together with parameter messages.")
        for key, label in (("due_dates", "due date"), ("create_times", "create time")):
            filters.pop(key, None)
            bounds = _date_conditions(loaded.get(key), label)
            if bounds:
                filters[key] = bounds
        # The tenant filters resolve with Camunda's precedence (B.1.5).
        if filters.pop("without_tenant_id", False):
            filters.pop("tenant_id_in", None)
            filters.pop("include_jobs_without_tenant_id", None)
            filters["without_tenant_id"] = True
        elif "tenant_id_in" not in filters:
            filters.pop("include_jobs_without_tenant_id", None)
        if filters.get("suspended"):
            filters.pop("active", None)
        pattern = filters.get("exception_message_like")
        if pattern is not None and like_pattern_problem(pattern):
            raise InvalidRequest(f"Invalid exceptionMessageLike '{pattern}': {like_pattern_problem(pattern)}")
        return filters


def _java_text(value):
    """A JSON value as Java prints it in a message: null, true, 1.5 (not Python's None, True)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _date_conditions(conditions, label):
    """Turn conditions into {"gt": datetime, "lt": datetime}; the last one of an operator wins."""
    bounds = {}
    for condition in conditions or ():
        value = condition.get("value")
        if isinstance(value, str) and (value.startswith('"') or value.endswith('"')):
            raise InvalidRequest(
                f"Invalid {label} format: Cannot convert value {value} to java type java.util.Date "
                "because of double quotes")
        try:
            moment = parse_date(value)
        except DateParseError:
            raise InvalidRequest(
                f'Invalid {label} format: Cannot convert value "{_java_text(value)}" to java type java.util.Date'
            ) from None
        operator = condition.get("operator")
        if operator not in ("gt", "lt"):
            raise InvalidRequest(f"Invalid {label} comparator specified: {_java_text(operator)}")
        bounds[operator] = moment
    return bounds


_BODY = JobQuerySchema()


def job_query_properties():
    """The property names a job query body has (its fields' JSON names, sorting included)."""
    return {field_obj.data_key or name for name, field_obj in _BODY.load_fields.items()}


def job_query_from_json(body, prefix=""):
    """A job query nested in another body (``jobQuery`` of ``POST /job/retries``): field
    errors are reported under ``prefix``; ``None`` means ``{}`` (A7)."""
    return load_or_400(_BODY, body, prefix)
