"""Incident query -> SQL. Every filter is ANDed (spec A3); paging happens in the database."""

from sqlalchemy import func, select

from app.extensions import db
from app.services.sql import fetch_mappings, order_by_columns, paged, stream_mappings
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
    columns = [(SORT_KEYS[sort_by], direction) for sort_by, direction in ordering or [("incidentId", "asc")]]
    return order_by_columns(table, columns, nullable=set(COLUMNS) - {"id"})


def select_incidents(query, first_result=None, max_results=None):
    statement = (select(*[table.c[name] for name in COLUMNS])
                 .where(*conditions(query)).order_by(*order_by(query.ordering)))
    return paged(statement, first_result, max_results)


def list_incidents(query, first_result=None, max_results=None):
    return fetch_mappings(select_incidents(query, first_result, max_results))


def stream_incidents(query, first_result=None, chunk_size=1000):
    return stream_mappings(select_incidents(query, first_result), chunk_size)


def count_incidents(query):
    return db.session.execute(select(func.count()).select_from(table).where(*conditions(query))).scalar_one()
