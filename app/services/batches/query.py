"""Batch, batch statistics and historic batch queries -> SQL (spec B.4.2, B.4.4).

Filtering, counting, sorting and paging happen in the database (app.services.sql.RowQuery);
rows come back as plain mappings for schemas.batch. The statistics are one statement: each
batch row with two correlated counts over its execution jobs (``job.job_definition_id`` = the
batch's ``batch_job_definition_id``, served by ``ix_job_job_definition_id``): all of them
(``existing_jobs``) and those at 0 retries (``failed_jobs``), from which batch_statistics_dto
derives remaining/completed/failed as Camunda's BatchStatisticsEntity does.

A batch id the database cannot store names no batch: the reads by id answer None.
"""

from sqlalchemy import exists, false, func, select

from app.extensions import db
from app.models.tables import batch_table, historic_batch_table, job_table
from app.services import access
from app.services.sql import RowQuery, equal_conditions, tenant_condition

# Everything but the configuration document.
BATCH_COLUMNS = (
    "id", "type", "total_jobs", "jobs_created", "batch_jobs_per_seed", "invocations_per_batch_job",
    "seed_job_definition_id", "monitor_job_definition_id", "batch_job_definition_id", "suspended",
    "tenant_id", "create_user_id", "start_time", "execution_start_time", "element_count", "skipped_elements",
)
HISTORIC_COLUMNS = (
    "id", "type", "total_jobs", "batch_jobs_per_seed", "invocations_per_batch_job",
    "seed_job_definition_id", "monitor_job_definition_id", "batch_job_definition_id", "tenant_id",
    "create_user_id", "start_time", "end_time", "removal_time", "execution_start_time", "element_count",
    "skipped_elements",
)

_EQUALS = {"batch_id": "id", "type": "type", "created_by": "create_user_id"}


def _execution_jobs(table, *conditions):
    return (select(func.count()).select_from(job_table)
            .where(job_table.c.job_definition_id == table.c.batch_job_definition_id, *conditions)
            .correlate(table).scalar_subquery())


def _has_failed_job(table):
    return exists().where(job_table.c.job_definition_id == table.c.batch_job_definition_id,
                          job_table.c.retries == 0).correlate(table)


def _conditions_of(table):
    """The WHERE conditions of a batch query (schemas.batch_query) over ``table``; the schema
    has already resolved which tenant filter wins."""

    def conditions(query):
        f = query.filters
        c = table.c
        if f.get("match_nothing"):
            return [false()]
        where = equal_conditions(table, f, _EQUALS)
        tenant = tenant_condition(c.tenant_id, f, None)
        if tenant is not None:
            where.append(tenant)
        if "suspended" in f:
            where.append(c.suspended.is_(True) if f["suspended"] else c.suspended.is_(False))
        if "completed" in f:
            where.append(c.end_time.isnot(None) if f["completed"] else c.end_time.is_(None))
        if "started_before" in f:
            where.append(c.start_time <= f["started_before"])
        if "started_after" in f:
            where.append(c.start_time >= f["started_after"])
        if "has_failure" in f:
            failed = _has_failed_job(table)
            where.append(failed if f["has_failure"] else ~failed)
        return where

    return conditions


def _readable(table, permission):
    """Batches the caller may ``READ`` (runtime) or ``READ_HISTORY`` (history), C.7."""
    return lambda authentication: access.batch_conditions(authentication, table, permission)


_BATCHES = RowQuery(batch_table, BATCH_COLUMNS, _conditions_of(batch_table), access=_readable(batch_table, "READ"))
_STATISTICS = RowQuery(batch_table, BATCH_COLUMNS, _BATCHES.conditions, computed=(
    _execution_jobs(batch_table).label("existing_jobs"),
    _execution_jobs(batch_table, job_table.c.retries == 0).label("failed_jobs"),
), access=_readable(batch_table, "READ"))
_HISTORIC = RowQuery(historic_batch_table, HISTORIC_COLUMNS, _conditions_of(historic_batch_table),
                     access=_readable(historic_batch_table, "READ_HISTORY"))

list_batches = _BATCHES.list
count_batches = _BATCHES.count
get_batch = _BATCHES.get  # the runtime batch row (without its configuration), or None

list_batch_statistics = _STATISTICS.list  # the batch columns plus existing_jobs and failed_jobs
count_batch_statistics = _STATISTICS.count
get_batch_statistics = _STATISTICS.get  # None when the runtime batch is gone

list_historic_batches = _HISTORIC.list
count_historic_batches = _HISTORIC.count
get_historic_batch = _HISTORIC.get


# --- progress in elements (the CLI's watch) ---------------------------------------------
def element_progress(batch_id):
    """A runtime batch's progress counted in elements (target jobs), not execution jobs.

    Returns ``{"elements", "done", "failed", "skipped", "suspended"}``, or None when the runtime
    batch is gone. An element is done when its slice's execution job has finished (skipped
    elements included); ``failed`` counts the elements of execution jobs at 0 retries. Every
    slice holds ``invocations_per_batch_job`` elements except the last, so besides the
    statistics only the last slice's job is looked up (slice numbers in the job's configuration).
    """
    row = get_batch_statistics(batch_id)
    if row is None:
        return None
    per_slice, elements, last = row["invocations_per_batch_job"], row["element_count"], row["total_jobs"] - 1
    last_slice_short_by = per_slice * row["total_jobs"] - elements
    slice_number = job_table.c.handler_configuration["slice"].as_integer()
    last_job_retries = db.session.execute(
        select(job_table.c.retries)
        .where(job_table.c.job_definition_id == row["batch_job_definition_id"], slice_number == last)
    ).scalars().first()
    last_open = row["jobs_created"] <= last or last_job_retries is not None
    open_slices = row["existing_jobs"] + row["total_jobs"] - row["jobs_created"]
    remaining = open_slices * per_slice - (last_slice_short_by if last_open else 0)
    failed = row["failed_jobs"] * per_slice - (last_slice_short_by if last_job_retries == 0 else 0)
    return {"elements": elements, "done": elements - remaining, "failed": failed,
            "skipped": row["skipped_elements"], "suspended": bool(row["suspended"])}
