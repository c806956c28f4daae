"""Job definition query -> SQL. Every filter is ANDed (spec A3); paging happens in the database."""

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models.tables import job_definition_table as table
from app.services.sql import fetch_mappings, order_by_columns, paged, stream_mappings

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
    where = [c[column] == f[key] for key, column in _EQUALS.items() if key in f]
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
    if f.get("without_tenant_id"):
        where.append(c.tenant_id.is_(None))
    elif "tenant_id_in" in f:
        in_list = c.tenant_id.in_(sorted(set(f["tenant_id_in"])))
        if f.get("include_without_tenant_id"):
            in_list = or_(in_list, c.tenant_id.is_(None))
        where.append(in_list)
    return where


def order_by(ordering):
    return order_by_columns(table, ordering or [("id", "asc")], nullable=set(COLUMNS) - {"id"})


def select_job_definitions(query, first_result=None, max_results=None):
    statement = (select(*[table.c[name] for name in COLUMNS])
                 .where(*conditions(query)).order_by(*order_by(query.ordering)))
    return paged(statement, first_result, max_results)


def list_job_definitions(query, first_result=None, max_results=None):
    return fetch_mappings(select_job_definitions(query, first_result, max_results))


def stream_job_definitions(query, first_result=None, chunk_size=1000):
    return stream_mappings(select_job_definitions(query, first_result), chunk_size)


def count_job_definitions(query):
    return db.session.execute(select(func.count()).select_from(table).where(*conditions(query))).scalar_one()
