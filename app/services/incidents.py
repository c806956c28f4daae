"""Incident query -> SQL. Every filter is ANDed (spec A3); paging happens in the database."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Incident
from schemas.incident import COLUMNS, SORT_KEYS

table = Incident.__table__

_EQUALS = {
    "incident_id": "id",
    "cause_incident_id": "id",
    "root_cause_incident_id": "id",
    "incident_type": "incident_type",
    "incident_message": "incident_message",
    "process_definition_id": "process_definition_id",
    "process_instance_id": "process_instance_id",
    "execution_id": "execution_id",
    "activity_id": "activity_id",
    "failed_activity_id": "failed_activity_id",
    "configuration": "configuration",
    "job_definition_id": "job_definition_id",
}


def conditions(query):
    f = query.filters
    c = table.c
    where = [c[column] == f[key] for key, column in _EQUALS.items() if key in f]
    if "incident_message_like" in f:
        where.append(c.incident_message.like(f["incident_message_like"]))
    if "incident_timestamp_before" in f:
        where.append(c.incident_timestamp < f["incident_timestamp_before"])
    if "incident_timestamp_after" in f:
        where.append(c.incident_timestamp > f["incident_timestamp_after"])
    if "tenant_id_in" in f:
        where.append(c.tenant_id.in_(sorted(set(f["tenant_id_in"]))))
    if "job_definition_id_in" in f:
        where.append(c.job_definition_id.in_(sorted(set(f["job_definition_id_in"]))))
    return where


def order_by(ordering):
    """NULLs as PostgreSQL places them on every database; ``id`` breaks ties so pages never overlap."""
    ordering = ordering or [("incidentId", "asc")]
    clauses = []
    for sort_by, direction in ordering:
        column = table.c[SORT_KEYS[sort_by]]
        if column.name == "id":
            clauses.append(column.asc() if direction == "asc" else column.desc())
        else:
            clauses.append(column.asc().nulls_last() if direction == "asc" else column.desc().nulls_first())
    if not any(SORT_KEYS[sort_by] == "id" for sort_by, _ in ordering):
        clauses.append(table.c.id.asc())
    return clauses


def select_incidents(query, first_result=None, max_results=None):
    statement = (select(*[table.c[name] for name in COLUMNS])
                 .where(*conditions(query)).order_by(*order_by(query.ordering)))
    if first_result:
        statement = statement.offset(first_result)
    if max_results is not None:
        statement = statement.limit(max_results)
    return statement


def list_incidents(query, first_result=None, max_results=None):
    return db.session.execute(select_incidents(query, first_result, max_results)).mappings().all()


def stream_incidents(query, first_result=None, chunk_size=1000):
    result = db.session.execute(select_incidents(query, first_result).execution_options(yield_per=chunk_size))
    try:
        yield from result.mappings()
    finally:
        result.close()


def count_incidents(query):
    return db.session.execute(select(func.count()).select_from(table).where(*conditions(query))).scalar_one()
