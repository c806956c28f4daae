"""Camunda's JobQueryDto (spec B.1.2-B.1.8): GET parameters and POST bodies into one JobQuery.

The checks run in Camunda's order: conversion of each value (GET) or the body's types (POST),
the top-level sort values, then the filters (timers+messages, date conditions), then the
sortBy/sortOrder pair, then the ordering state machine. The messages are Camunda's.
"""

import json

from marshmallow import fields

from app.core.dates import DateParseError, parse_date
from app.core.errors import InvalidRequest
from schemas.common import (
    BaseSchema,
    Long,
    QueryBodySchema,
    ResourceQuery,
    StrictBoolean,
    StringList,
    check_sort_pair,
    check_sort_values,
    convert_args,
    load_or_400,
    query_param_error,
    resolve_ordering,
)

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
}


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


def _id_set(name, values):
    """``jobIds=`` is the set {""} (matches nothing); an empty ``tenantIdIn=`` is ignored."""
    items = []
    for value in values:
        items.extend(value.split(","))
    return items


def _tenant_list(name, values):
    items = []
    for value in values:
        if value != "":
            items.extend(value.split(","))
    return items


GET_PARAMS = {
    "jobId": "str",
    "jobIds": _id_set,
    "jobDefinitionId": "str",
    "processInstanceId": "str",
    "processInstanceIds": _id_set,
    "executionId": "str",
    "processDefinitionId": "str",
    "processDefinitionKey": "str",
    "activityId": "str",
    "withRetriesLeft": "bool",
    "executable": "bool",
    "timers": "bool",
    "messages": "bool",
    "dueDates": _condition_list,
    "createTimes": _condition_list,
    "withException": "bool",
    "exceptionMessage": "str",
    "failedActivityId": "str",
    "noRetriesLeft": "bool",
    "active": "bool",
    "suspended": "bool",
    "priorityHigherThanOrEquals": "long",
    "priorityLowerThanOrEquals": "long",
    "tenantIdIn": _tenant_list,
    "withoutTenantId": "bool",
    "includeJobsWithoutTenantId": "bool",
    "acquired": "bool",
    "sortBy": "str",
    "sortOrder": "str",
}


class ConditionSchema(BaseSchema):
    operator = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True)


class JobQuerySchema(QueryBodySchema):
    """The POST body (and the converted GET parameters). Unknown keys are ignored (A6)."""

    job_id = fields.String(data_key="jobId", allow_none=True)
    job_ids = StringList(data_key="jobIds", allow_none=True)
    job_definition_id = fields.String(data_key="jobDefinitionId", allow_none=True)
    process_instance_id = fields.String(data_key="processInstanceId", allow_none=True)
    process_instance_ids = StringList(data_key="processInstanceIds", allow_none=True)
    execution_id = fields.String(data_key="executionId", allow_none=True)
    process_definition_id = fields.String(data_key="processDefinitionId", allow_none=True)
    process_definition_key = fields.String(data_key="processDefinitionKey", allow_none=True)
    activity_id = fields.String(data_key="activityId", allow_none=True)
    with_retries_left = StrictBoolean(data_key="withRetriesLeft", allow_none=True)
    executable = StrictBoolean(allow_none=True)
    timers = StrictBoolean(allow_none=True)
    messages = StrictBoolean(allow_none=True)
    due_dates = fields.List(fields.Nested(ConditionSchema), data_key="dueDates", allow_none=True)
    create_times = fields.List(fields.Nested(ConditionSchema), data_key="createTimes", allow_none=True)
    with_exception = StrictBoolean(data_key="withException", allow_none=True)
    exception_message = fields.String(data_key="exceptionMessage", allow_none=True)
    failed_activity_id = fields.String(data_key="failedActivityId", allow_none=True)
    no_retries_left = StrictBoolean(data_key="noRetriesLeft", allow_none=True)
    active = StrictBoolean(allow_none=True)
    suspended = StrictBoolean(allow_none=True)
    priority_higher_than_or_equals = Long(data_key="priorityHigherThanOrEquals", allow_none=True)
    priority_lower_than_or_equals = Long(data_key="priorityLowerThanOrEquals", allow_none=True)
    tenant_id_in = StringList(data_key="tenantIdIn", allow_none=True)
    without_tenant_id = StrictBoolean(data_key="withoutTenantId", allow_none=True)
    include_jobs_without_tenant_id = StrictBoolean(data_key="includeJobsWithoutTenantId", allow_none=True)
    acquired = StrictBoolean(allow_none=True)
    resource = "job query"
    example = '{"noRetriesLeft": true}'


_SCHEMA = JobQuerySchema()

# Flags Camunda applies only when true ("true-only", spec B.1.2).
TRUE_ONLY = (
    "with_retries_left", "executable", "timers", "messages", "with_exception", "no_retries_left",
    "active", "suspended", "without_tenant_id", "include_jobs_without_tenant_id", "acquired",
)


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


def _build(loaded, from_get):
    check_sort_values(loaded.get("sort_by"), loaded.get("sort_order"), SORT_KEYS, from_get)
    filters = {}
    for key, value in loaded.items():
        if key in ("sort_by", "sort_order", "sorting", "due_dates", "create_times") or value is None:
            continue
        if key in TRUE_ONLY:
            if value is True:
                filters[key] = True
            continue
        filters[key] = value
    if filters.get("timers") and filters.get("messages"):
        raise InvalidRequest("Parameter timers cannot be used together with parameter messages.")
    due = _date_conditions(loaded.get("due_dates"), "due date")
    created = _date_conditions(loaded.get("create_times"), "create time")
    if due:
        filters["due_dates"] = due
    if created:
        filters["create_times"] = created
    # Empty id lists are ignored; the tenant filters resolve with Camunda's precedence (B.1.5).
    for key in ("job_ids", "process_instance_ids", "tenant_id_in"):
        if key in filters and not filters[key]:
            del filters[key]
    if filters.pop("without_tenant_id", False):
        filters.pop("tenant_id_in", None)
        filters.pop("include_jobs_without_tenant_id", None)
        filters["without_tenant_id"] = True
    elif "tenant_id_in" not in filters:
        filters.pop("include_jobs_without_tenant_id", None)
    if filters.get("suspended"):
        filters.pop("active", None)
    check_sort_pair(loaded.get("sort_by"), loaded.get("sort_order"))
    ordering = resolve_ordering(loaded.get("sort_by"), loaded.get("sort_order"),
                                loaded.get("sorting"), SORT_KEYS)
    return JobQuery(filters=filters, ordering=ordering)


def job_query_from_args(args):
    """A GET request's parameters (spec A7: any-case booleans, repeated list parameters)."""
    converted = convert_args(args, GET_PARAMS)
    loaded = load_or_400(_SCHEMA, converted)
    return _build(loaded, from_get=True)


def job_query_from_json(body, prefix=""):
    """A POST body; ``None`` (empty body) means ``{}`` (A7)."""
    if body is None:
        body = {}
    loaded = load_or_400(_SCHEMA, body, prefix)
    return _build(loaded, from_get=False)
