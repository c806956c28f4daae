"""Job definition query -> SQL. Every filter is ANDed (spec A3); paging happens in the database."""

from app.models.tables import job_definition_table as table
from app.services import access
from app.services.sql import RowQuery, equal_conditions, tenant_condition

# The JobDefinitionDto columns.
COLUMNS = (
    "id", "process_definition_id", "process_definition_key", "activity_id", "job_type",
    "job_configuration", "overriding_priority", "suspended", "tenant_id", "deployment_id",
)

_EQUALS = {
    "job_definition_id": "id",
    "process_definition_id": "process_definition_id",
    "process_definition_key": "process_definition_key",
    "job_type": "job_type",
    "job_configuration": "job_configuration",
}


def conditions(query):
    f = query.filters
    c = table.c
    where = equal_conditions(table, f, _EQUALS)
    if "job_definition_ids" in f:
        where.append(c.id.in_(sorted(set(f["job_definition_ids"]))))
    if "activity_id_in" in f:
        where.append(c.activity_id.in_(sorted(set(f["activity_id_in"]))))
    if f.get("active"):
        where.append(c.suspended.is_(False))
    if f.get("suspended"):
        where.append(c.suspended.is_(True))
    if f.get("with_overriding_job_priority"):
        where.append(c.overriding_priority.isnot(None))
    tenant = tenant_condition(c.tenant_id, f, "include_without_tenant_id")
    if tenant is not None:
        where.append(tenant)
    return where


_ROWS = RowQuery(table, COLUMNS, conditions,
                 access=lambda authentication: access.job_definition_conditions(authentication, table))
list_job_definitions = _ROWS.list
stream_job_definitions = _ROWS.stream
count_job_definitions = _ROWS.count
