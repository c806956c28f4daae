"""Camunda's BatchQueryDto, BatchStatisticsQueryDto and HistoricBatchQueryDto (spec B.4.4):
GET parameters into one :class:`BatchQuery`.

The checks run in Camunda's order: conversion of each value (``Cannot set query parameter
...``, booleans in any case, spec A7), the sortBy/sortOrder values, then the pair check. Which
filter wins follows Camunda's DTOs: ``withoutTenantId`` is applied before ``tenantIdIn``, so a
given ``tenantIdIn`` overrides it (the opposite of the job query); ``suspended=false`` means
"active only"; for the statistics ``withoutFailures`` is applied after ``withFailures`` and wins.
Parameters a resource does not know are ignored (A6), e.g. ``createdBy`` on ``GET /batch``.
"""

from app.core.text import is_storable
from schemas.common import ResourceQuery, check_sort_pair, check_sort_values, convert_args

# sortBy value -> column, per resource
BATCH_SORT_KEYS = {"batchId": "id", "tenantId": "tenant_id"}
STATISTICS_SORT_KEYS = {**BATCH_SORT_KEYS, "startTime": "start_time"}
HISTORIC_SORT_KEYS = {"batchId": "id", "startTime": "start_time", "endTime": "end_time", "tenantId": "tenant_id"}


class BatchQuery(ResourceQuery):
    """Validated filters (snake_case) and the ordering ``[(column, "asc"|"desc")]``."""


def _tenant_list(name, values):
    """``tenantIdIn=a,b`` or repeated; an empty value is no filter (Camunda's empty list)."""
    items = []
    for value in values:
        if value.strip() != "":
            items.extend(value.split(","))
    return items


_COMMON_PARAMS = {
    "batchId": "str",
    "type": "str",
    "tenantIdIn": _tenant_list,
    "withoutTenantId": "bool",
    "sortBy": "str",
    "sortOrder": "str",
}
BATCH_PARAMS = {**_COMMON_PARAMS, "suspended": "bool"}
STATISTICS_PARAMS = {
    **BATCH_PARAMS,
    "createdBy": "str",
    "startedBefore": "date",
    "startedAfter": "date",
    "withFailures": "bool",
    "withoutFailures": "bool",
}
HISTORIC_PARAMS = {**_COMMON_PARAMS, "completed": "bool"}


def _build(args, spec, sort_keys):
    converted = convert_args(args, spec)
    sort_by, sort_order = converted.get("sortBy"), converted.get("sortOrder")
    check_sort_values(sort_by, sort_order, sort_keys, from_get=True)
    filters = {}
    for name, key in (("batchId", "batch_id"), ("type", "type"), ("createdBy", "created_by"),
                      ("startedBefore", "started_before"), ("startedAfter", "started_after")):
        if name in converted:
            filters[key] = converted[name]
            if isinstance(filters[key], str) and not is_storable(filters[key]):
                filters["match_nothing"] = True
    if converted.get("tenantIdIn"):
        tenants = sorted({tenant for tenant in converted["tenantIdIn"] if is_storable(tenant)})
        filters["tenant_id_in"] = tenants
        if not tenants:
            filters["match_nothing"] = True
    elif converted.get("withoutTenantId") is True:
        filters["without_tenant_id"] = True
    for name, key in (("suspended", "suspended"), ("completed", "completed")):
        if name in converted:
            filters[key] = converted[name]  # both values filter: true and false
    if converted.get("withoutFailures") is True:
        filters["has_failure"] = False
    elif converted.get("withFailures") is True:
        filters["has_failure"] = True
    check_sort_pair(sort_by, sort_order)
    ordering = [(sort_keys[sort_by], sort_order)] if sort_by is not None else []
    return BatchQuery(filters=filters, ordering=ordering)


def batch_query_from_args(args):
    """``GET /batch`` and ``/batch/count``."""
    return _build(args, BATCH_PARAMS, BATCH_SORT_KEYS)


def batch_statistics_query_from_args(args):
    """``GET /batch/statistics`` and ``/batch/statistics/count``."""
    return _build(args, STATISTICS_PARAMS, STATISTICS_SORT_KEYS)


def historic_batch_query_from_args(args):
    """``GET /history/batch`` and ``/history/batch/count``."""
    return _build(args, HISTORIC_PARAMS, HISTORIC_SORT_KEYS)
