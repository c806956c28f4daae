"""Batch, batch statistics and historic batch queries -> SQL (spec B.4.2, B.4.4).

Filtering, counting, sorting and paging happen in the database; rows come back as plain
mappings for schemas.batch. The statistics are one statement: each batch row with two
correlated counts over its execution jobs (``job.job_definition_id`` = the batch's
``batch_job_definition_id``, served by ``ix_job_job_definition_id``): all of them
(``existing_jobs``) and those at 0 retries (``failed_jobs``), from which batch_statistics_dto
derives remaining/completed/failed as Camunda's BatchStatisticsEntity does.
"""

from sqlalchemy import exists, false, func, select

from app.core.text import is_storable
from app.extensions import db
from app.models.tables import batch_table, historic_batch_table, job_table
from app.services.sql import fetch_mappings, order_by_columns, paged

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
NULLABLE_SORT_COLUMNS = {"tenant_id", "end_time", "execution_start_time"}


def _execution_jobs(table, *conditions):
    return (select(func.count()).select_from(job_table)
            .where(job_table.c.job_definition_id == table.c.batch_job_definition_id, *conditions)
            .correlate(table).scalar_subquery())


def _has_failed_job(table):
    return exists().where(job_table.c.job_definition_id == table.c.batch_job_definition_id,
                          job_table.c.retries == 0).correlate(table)


def _conditions(query, table):
    f = query.filters
    c = table.c
    if f.get("match_nothing"):
        return [false()]
    conditions = []
    if "batch_id" in f:
        conditions.append(c.id == f["batch_id"])
    if "type" in f:
        conditions.append(c.type == f["type"])
    if "tenant_id_in" in f:
        conditions.append(c.tenant_id.in_(f["tenant_id_in"]))
    elif f.get("without_tenant_id"):
        conditions.append(c.tenant_id.is_(None))
    if "suspended" in f:
        conditions.append(c.suspended.is_(True) if f["suspended"] else c.suspended.is_(False))
    if "completed" in f:
        conditions.append(c.end_time.isnot(None) if f["completed"] else c.end_time.is_(None))
    if "created_by" in f:
        conditions.append(c.create_user_id == f["created_by"])
    if "started_before" in f:
        conditions.append(c.start_time <= f["started_before"])
    if "started_after" in f:
        conditions.append(c.start_time >= f["started_after"])
    if "has_failure" in f:
        failed = _has_failed_job(table)
        conditions.append(failed if f["has_failure"] else ~failed)
    return conditions


def _order_by(ordering, table):
    """Default ``id asc`` (B.4.4); NULLs and the tie-breaker as for jobs (app.services.sql)."""
    return order_by_columns(table, ordering, NULLABLE_SORT_COLUMNS)


def _count(query, table):
    statement = select(func.count()).select_from(table).where(*_conditions(query, table))
    return db.session.execute(statement).scalar_one()


# --- runtime batches --------------------------------------------------------------------

def list_batches(query, first_result=None, max_results=None):
    statement = (select(*[batch_table.c[name] for name in BATCH_COLUMNS])
                 .where(*_conditions(query, batch_table)).order_by(*_order_by(query.ordering, batch_table)))
    return fetch_mappings(paged(statement, first_result, max_results))


def count_batches(query):
    return _count(query, batch_table)


def get_batch(batch_id):
    """The runtime batch row (without its configuration), or None."""
    if not is_storable(batch_id):
        return None
    return db.session.execute(
        select(*[batch_table.c[name] for name in BATCH_COLUMNS]).where(batch_table.c.id == batch_id)
    ).mappings().first()


# --- batch statistics -------------------------------------------------------------------

def _statistics_select():
    return select(
        *[batch_table.c[name] for name in BATCH_COLUMNS],
        _execution_jobs(batch_table).label("existing_jobs"),
        _execution_jobs(batch_table, job_table.c.retries == 0).label("failed_jobs"),
    )


def list_batch_statistics(query, first_result=None, max_results=None):
    """Rows with the batch columns plus ``existing_jobs`` and ``failed_jobs``."""
    statement = (_statistics_select().where(*_conditions(query, batch_table))
                 .order_by(*_order_by(query.ordering, batch_table)))
    return fetch_mappings(paged(statement, first_result, max_results))


def count_batch_statistics(query):
    return _count(query, batch_table)


def get_batch_statistics(batch_id):
    """One batch's statistics row, or None when the runtime batch is gone."""
    if not is_storable(batch_id):
        return None
    return db.session.execute(
        _statistics_select().where(batch_table.c.id == batch_id)).mappings().first()


# --- historic batches -------------------------------------------------------------------

def list_historic_batches(query, first_result=None, max_results=None):
    statement = (select(*[historic_batch_table.c[name] for name in HISTORIC_COLUMNS])
                 .where(*_conditions(query, historic_batch_table))
                 .order_by(*_order_by(query.ordering, historic_batch_table)))
    return fetch_mappings(paged(statement, first_result, max_results))


def count_historic_batches(query):
    return _count(query, historic_batch_table)


def get_historic_batch(batch_id):
    if not is_storable(batch_id):
        return None
    return db.session.execute(
        select(*[historic_batch_table.c[name] for name in HISTORIC_COLUMNS])
        .where(historic_batch_table.c.id == batch_id)
    ).mappings().first()


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
