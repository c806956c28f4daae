"""Incidents: their lifecycle for failed jobs, and the incident query.

Lifecycle: a job has a ``failedJob`` incident exactly while it has 0 retries. It is created
when a job runs out of retries (or arrives with none), and deleted when retries are set above 0,
when the job succeeds and when the job is deleted. Every function takes a list of job ids and
writes with one statement.

Query: every filter is ANDed (spec A3); paging happens in the database.
"""

from flask import current_app
from sqlalchemy import delete, exists, insert, not_, select, text

from app.core.dates import utcnow
from app.core.names import INCIDENT_TYPE_FAILED_JOB
from app.extensions import db
from app.models import new_id
from app.models.tables import incident_table as table
from app.models.tables import job_table
from app.services import access
from app.services.sql import RowQuery, equal_conditions, in_ids, is_postgres

# The IncidentDto columns, in IncidentDto order.
COLUMNS = (
    "id", "process_definition_id", "process_instance_id", "execution_id", "incident_timestamp",
    "incident_type", "activity_id", "failed_activity_id", "configuration", "tenant_id",
    "incident_message", "job_definition_id",
)


def create_failed_job_incidents(job_ids, message, now=None):
    """One ``failedJob`` incident per job that has none yet, in one statement."""
    if not current_app.config["CREATE_INCIDENT_ON_FAILED_JOB"] or not job_ids:
        return
    now = now or utcnow()
    c = job_table.c
    rows = db.session.execute(
        select(c.id, c.job_definition_id, c.process_instance_id, c.execution_id, c.process_definition_id,
               c.activity_id, c.failed_activity_id, c.tenant_id, c.exception_message)
        .where(in_ids(c.id, job_ids),
               not_(exists().where(table.c.configuration == c.id,
                                   table.c.incident_type == INCIDENT_TYPE_FAILED_JOB)))
    ).mappings().all()
    if not rows:
        return
    db.session.execute(insert(table), [
        dict(id=new_id(), incident_type=INCIDENT_TYPE_FAILED_JOB,
             incident_message=message if message is not None else row["exception_message"],
             incident_timestamp=now, configuration=row["id"], job_definition_id=row["job_definition_id"],
             process_instance_id=row["process_instance_id"], execution_id=row["execution_id"],
             process_definition_id=row["process_definition_id"],
             activity_id=row["activity_id"] or row["failed_activity_id"],
             failed_activity_id=row["failed_activity_id"], tenant_id=row["tenant_id"])
        for row in rows
    ])


# From this many jobs on, the DELETE below is planned with a random_page_cost for cached data.
MANY_JOBS = 100


def delete_failed_job_incidents(job_ids):
    """Remove the ``failedJob`` incidents of these jobs: resolved (retries went from 0 to more),
    or gone with their job (it succeeded or was deleted). Camunda deletes them in both cases.

    For a batch slice (1,000 jobs) PostgreSQL's default ``random_page_cost`` (4, priced for
    spinning disks) makes 1,000 probes of ``ix_incident_configuration`` look dearer than reading
    every incident: at 40,000 incidents each slice read them all (22.8 ms) instead of its own
    (10.1 ms, benchmarks scenario 1). The cost of cached pages is set for the rest of this
    transaction only (``SET LOCAL``), which the statements after it in a slice do not mind."""
    if job_ids:
        if len(job_ids) >= MANY_JOBS and is_postgres():
            db.session.execute(text("SET LOCAL random_page_cost = 1.1"))
        db.session.execute(delete(table).where(
            in_ids(table.c.configuration, job_ids),
            table.c.incident_type == INCIDENT_TYPE_FAILED_JOB))


# --- the incident query ---------------------------------------------------------------------

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
    where = equal_conditions(table, f, _EQUALS)
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


_ROWS = RowQuery(table, COLUMNS, conditions, access=lambda authentication: access.incident_conditions(
    authentication, table))
list_incidents = _ROWS.list
stream_incidents = _ROWS.stream
count_incidents = _ROWS.count
