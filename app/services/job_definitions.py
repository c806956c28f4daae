"""Job definition query -> SQL. Every filter is ANDed (spec A3); paging happens in the database."""

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import JobDefinition
from schemas.job_definition import COLUMNS, SORT_KEYS

table = JobDefinition.__table__

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
    """NULLs as PostgreSQL places them on every database; ``id`` breaks ties so pages never overlap."""
    clauses = []
    ordering = ordering or [("jobDefinitionId", "asc")]
    for sort_by, direction in ordering:
        column = table.c[SORT_KEYS[sort_by]]
        if direction == "asc":
            clauses.append(column.asc() if column.name == "id" else column.asc().nulls_last())
        else:
            clauses.append(column.desc() if column.name == "id" else column.desc().nulls_first())
    if not any(sort_by == "jobDefinitionId" for sort_by, _ in ordering):
        clauses.append(table.c.id.asc())
    return clauses


def select_job_definitions(query, first_result=None, max_results=None):
    statement = (select(*[table.c[name] for name in COLUMNS])
                 .where(*conditions(query)).order_by(*order_by(query.ordering)))
    if first_result:
        statement = statement.offset(first_result)
    if max_results is not None:
        statement = statement.limit(max_results)
    return statement


def list_job_definitions(query, first_result=None, max_results=None):
    return db.session.execute(select_job_definitions(query, first_result, max_results)).mappings().all()


def stream_job_definitions(query, first_result=None, chunk_size=1000):
    result = db.session.execute(
        select_job_definitions(query, first_result).execution_options(yield_per=chunk_size))
    try:
        yield from result.mappings()
    finally:
        result.close()


def count_job_definitions(query):
    return db.session.execute(select(func.count()).select_from(table).where(*conditions(query))).scalar_one()
