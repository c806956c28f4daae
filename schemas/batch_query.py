"""Camunda's BatchQueryDto, BatchStatisticsQueryDto and HistoricBatchQueryDto (spec B.4.4):
GET parameters into one :class:`BatchQuery`.

The checks run in Camunda's order: conversion of each value (``Cannot set query parameter
...``, booleans in any case, spec A7), the sortBy/sortOrder values, then the pair check. Which
filter wins follows Camunda's DTOs: ``withoutTenantId`` is applied before ``tenantIdIn``, so a
given ``tenantIdIn`` overrides it (the opposite of the job query); ``suspended=false`` means
"active only"; for the statistics ``withoutFailures`` is applied after ``withFailures`` and wins.
Parameters a resource does not know are ignored (A6), e.g. ``createdBy`` on ``GET /batch``.

Text no database can store is no 400 here: it matches no batch, as an unknown id would.
"""

from marshmallow import fields

from app.core.text import is_storable
from schemas.common import url, url_date
from schemas.fields import StrictBoolean, StringList
from schemas.query import QuerySchema, ResourceQuery

# sortBy value -> column, per resource
BATCH_SORT_KEYS = {"batchId": "id", "tenantId": "tenant_id"}
STATISTICS_SORT_KEYS = {**BATCH_SORT_KEYS, "startTime": "start_time"}
HISTORIC_SORT_KEYS = {"batchId": "id", "startTime": "start_time", "endTime": "end_time", "tenantId": "tenant_id"}


class BatchQuery(ResourceQuery):
    """Validated filters (snake_case) and the ordering ``[(column, "asc"|"desc")]``."""


def _tenant_list(name, values):
    """``tenantIdIn=a,b`` or repeated; an empty value is no filter (Camunda's empty list)."""
    return [item for value in values if value.strip() != "" for item in value.split(",")]


class _BatchQuerySchema(QuerySchema):
    """What the three batch queries share; the fields in the order Camunda converts them."""

    query_class = BatchQuery
    refuse_unstorable_text = False

    batch_id = fields.String(data_key="batchId")
    type = fields.String()
    tenant_id_in = StringList(data_key="tenantIdIn", metadata=url(_tenant_list))
    without_tenant_id = StrictBoolean(data_key="withoutTenantId")
    sort_by = fields.String(data_key="sortBy")
    sort_order = fields.String(data_key="sortOrder")

    def filters(self, loaded):
        filters = {}
        for name in ("batch_id", "type", "created_by", "started_before", "started_after"):
            if name in loaded:
                filters[name] = loaded[name]
                if isinstance(filters[name], str) and not is_storable(filters[name]):
                    filters["match_nothing"] = True
        if loaded.get("tenant_id_in"):
            tenants = sorted({tenant for tenant in loaded["tenant_id_in"] if is_storable(tenant)})
            filters["tenant_id_in"] = tenants
            if not tenants:
                filters["match_nothing"] = True
        elif loaded.get("without_tenant_id") is True:
            filters["without_tenant_id"] = True
        for name in ("suspended", "completed"):
            if name in loaded:
                filters[name] = loaded[name]  # both values filter: true and false
        if loaded.get("without_failures") is True:
            filters["has_failure"] = False
        elif loaded.get("with_failures") is True:
            filters["has_failure"] = True
        return filters


class BatchQuerySchema(_BatchQuerySchema):
    """``GET /batch`` and ``/batch/count``."""

    sort_keys = BATCH_SORT_KEYS

    suspended = StrictBoolean()


class BatchStatisticsQuerySchema(BatchQuerySchema):
    """``GET /batch/statistics`` and ``/batch/statistics/count``."""

    sort_keys = STATISTICS_SORT_KEYS

    created_by = fields.String(data_key="createdBy")
    # Datetimes already: the URL conversion parsed them, with Camunda's message on failure.
    started_before = fields.Raw(data_key="startedBefore", metadata=url(url_date))
    started_after = fields.Raw(data_key="startedAfter", metadata=url(url_date))
    with_failures = StrictBoolean(data_key="withFailures")
    without_failures = StrictBoolean(data_key="withoutFailures")


class HistoricBatchQuerySchema(_BatchQuerySchema):
    """``GET /history/batch`` and ``/history/batch/count``."""

    sort_keys = HISTORIC_SORT_KEYS

    completed = StrictBoolean()
