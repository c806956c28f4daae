"""The historic job log (spec C.3, our choices in A19): writing events, the history cleanup,
the reads of ``/history/job-log`` and the outcome of a set-retries batch.

Writing is set-based and in the transaction of the state change, never one statement per job
where the change itself is one statement for many jobs:

- creation and deletion: one ``INSERT INTO job_log ... SELECT ... FROM job`` over the jobs just
  inserted or about to be deleted (:func:`log_jobs`);
- success: the executor's fenced ``DELETE`` becomes, on PostgreSQL, ``WITH finished AS (DELETE
  ... RETURNING ...) INSERT INTO job_log SELECT ... FROM finished``: still ONE statement and one
  round trip per job (:func:`finish_statement`). SQLite copies the row first, then deletes it,
  in one transaction;
- failure: one row built from the job as it was before the failure (:func:`log_failure`).

``JOB_LOG_ENABLED`` false turns every write off. The event's ``jobDefinitionType`` and
``jobDefinitionConfiguration`` come from the job's definition (a primary key lookup in the same
statement), the handler type when it has none (as Camunda does for jobs without a definition).
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, literal, select
from sqlalchemy.types import DateTime, SmallInteger, String

from app.core.errors import InvalidRequest
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES
from app.core.text import is_storable
from app.extensions import db
from app.models.job_log import CREATED, DELETED, FAILED, SUCCESSFUL
from app.models.tables import historic_batch_table, job_definition_table, job_log_table, job_table
from app.services import access
from app.services.sql import RowQuery, equal_conditions, in_ids, is_postgres, tenant_condition

# log column <- job column, for every event
_COPIED = (
    ("job_id", "id"), ("job_due_date", "due_date"), ("job_retries", "retries"), ("job_priority", "priority"),
    ("job_definition_id", "job_definition_id"), ("activity_id", "activity_id"),
    ("failed_activity_id", "failed_activity_id"), ("execution_id", "execution_id"),
    ("process_instance_id", "process_instance_id"), ("process_definition_id", "process_definition_id"),
    ("process_definition_key", "process_definition_key"), ("deployment_id", "deployment_id"),
    ("tenant_id", "tenant_id"), ("batch_id", "batch_id"), ("revived_by_batch_id", "revived_by_batch_id"),
)
# The job columns an event needs (RETURNING of the success statement).
JOB_COLUMNS = tuple(job_column for _, job_column in _COPIED) + ("handler_type",)
_INSERTED = tuple(log_column for log_column, _ in _COPIED) + (
    "job_definition_type", "job_definition_configuration", "timestamp", "hostname", "job_state")


def enabled():
    return current_app.config["JOB_LOG_ENABLED"]


def _hostname():
    return current_app.config["JOB_LOG_HOSTNAME"]


def _select_events(source, state, timestamp, hostname):
    """``SELECT`` of one log row per row of ``source`` (the job table, or a CTE returning
    JOB_COLUMNS) with its definition's type and configuration."""
    d = job_definition_table
    joined = source.outerjoin(d, d.c.id == source.c.job_definition_id)
    return select(
        *[source.c[job_column] for _, job_column in _COPIED],
        func.coalesce(d.c.job_type, source.c.handler_type),
        d.c.job_configuration,
        timestamp, hostname, literal(state, SmallInteger),
    ).select_from(joined)


def log_jobs(condition, state, now):
    """Log ``state`` for every job matching ``condition`` (a WHERE clause over the job table),
    in one statement; runs in the caller's transaction. Returns the rows written."""
    if not enabled():
        return 0
    events = _select_events(job_table, state, literal(now, DateTime), literal(_hostname(), String)).where(condition)
    return db.session.execute(insert(job_log_table).from_select(_INSERTED, events)).rowcount


def log_jobs_by_ids(ids, state, now, chunk=5000):
    """:func:`log_jobs` for explicit ids (SQLite's parameter limit: ``chunk`` at a time)."""
    ids = list(ids)
    for start in range(0, len(ids), chunk):
        log_jobs(in_ids(job_table.c.id, ids[start:start + chunk]), state, now)


def log_created(ids, now):
    log_jobs_by_ids(ids, CREATED, now)


def log_deleted(ids, now):
    log_jobs_by_ids(ids, DELETED, now)


# --- success: the executor's finishing statement ------------------------------------------

def _fence():
    c = job_table.c
    return (c.id == bindparam("job_id"), c.lock_owner == bindparam("owner"), c.revision == bindparam("revision"))


def _build_finish_with_log():
    """PostgreSQL: the fenced DELETE and the success event in one statement; its rowcount is the
    number of jobs finished (1, or 0 when the fence did not match)."""
    finished = (job_table.delete().where(*_fence())
                .returning(*[job_table.c[name] for name in JOB_COLUMNS]).cte("finished"))
    events = _select_events(finished, SUCCESSFUL, bindparam("log_now", type_=DateTime),
                            bindparam("log_hostname", type_=String))
    return insert(job_log_table).from_select(_INSERTED, events)


def _build_log_fenced():
    """SQLite: the success event of the fenced job, written before its DELETE."""
    events = _select_events(job_table, SUCCESSFUL, bindparam("log_now", type_=DateTime),
                            bindparam("log_hostname", type_=String)).where(*_fence())
    return insert(job_log_table).from_select(_INSERTED, events)


# Built once: the executor runs them once per job.
_FINISH_WITH_LOG = _build_finish_with_log()
_LOG_FENCED = _build_log_fenced()


def success_parameters(fence, now):
    return {**fence, "log_now": now, "log_hostname": _hostname()}


def finish_with_log_statement():
    """The one-statement finish (PostgreSQL), or None where it is two statements (SQLite)."""
    return _FINISH_WITH_LOG if is_postgres() else None


def log_success_before_delete(parameters):
    """SQLite: the success event of the fenced job (rolled back with the DELETE if it fails)."""
    db.session.execute(_LOG_FENCED, parameters)


# --- failure -------------------------------------------------------------------------------

def log_failure(job, message, stacktrace, now):
    """The failure event of ``job`` (a mapping of JOB_COLUMNS plus ``job_definition_type`` and
    ``job_definition_configuration``, read before the failure was recorded): retries and due
    date before this failure, ``failedActivityId`` the activity that failed (spec C.3.4)."""
    if not enabled():
        return
    row = {log_column: job[job_column] for log_column, job_column in _COPIED}
    row.update(failed_activity_id=job["activity_id"],
               job_definition_type=job["job_definition_type"] or job["handler_type"],
               job_definition_configuration=job["job_definition_configuration"],
               job_exception_message=message, job_exception_stacktrace=stacktrace,
               timestamp=now, hostname=_hostname(), job_state=FAILED)
    db.session.execute(insert(job_log_table).values(**row))


# --- history cleanup -----------------------------------------------------------------------

def cleanup(now):
    """Delete log rows older than ``JOB_LOG_TTL_DAYS``, oldest first, in chunks of
    ``JOB_LOG_CLEANUP_CHUNK`` (one transaction each), at most ``JOB_LOG_CLEANUP_MAX_CHUNKS``;
    returns how many were deleted. Each chunk reads the first rows by primary key (insertion
    order, so the oldest) and deletes those past the time to live: no index on ``timestamp`` is
    needed, and a chunk never scans more than its own rows. It stops at the first chunk that
    is not entirely old."""
    config = current_app.config
    ttl = config["JOB_LOG_TTL_DAYS"]
    if ttl is None:
        return 0
    cut = now - timedelta(days=ttl)
    chunk = config["JOB_LOG_CLEANUP_CHUNK"]
    log = job_log_table.c
    total = 0
    for _ in range(config["JOB_LOG_CLEANUP_MAX_CHUNKS"]):
        oldest = select(log.id, log.timestamp).order_by(log.id).limit(chunk).subquery("oldest")
        doomed = select(oldest.c.id).where(oldest.c.timestamp < cut)
        deleted = db.session.execute(delete(job_log_table).where(log.id.in_(doomed))).rowcount
        db.session.commit()
        total += deleted
        if deleted < chunk:
            break
    return total


def delete_batch_logs(batch_id):
    """The events of a batch's own seed, monitor and execution jobs (with its history, C.3.4)."""
    db.session.execute(delete(job_log_table).where(job_log_table.c.batch_id == batch_id))


# --- reads: /history/job-log ---------------------------------------------------------------

DTO_COLUMNS = (
    "id", "timestamp", "removal_time", "job_id", "job_due_date", "job_retries", "job_priority",
    "job_exception_message", "job_definition_id", "job_definition_type", "job_definition_configuration",
    "activity_id", "failed_activity_id", "execution_id", "process_instance_id", "process_definition_id",
    "process_definition_key", "deployment_id", "tenant_id", "hostname", "root_process_instance_id",
    "batch_id", "job_state",
)

_EQUALS = {
    "job_id": "job_id", "job_exception_message": "job_exception_message",
    "job_definition_id": "job_definition_id", "job_definition_type": "job_definition_type",
    "job_definition_configuration": "job_definition_configuration",
    "process_instance_id": "process_instance_id", "process_definition_id": "process_definition_id",
    "process_definition_key": "process_definition_key", "deployment_id": "deployment_id",
    "hostname": "hostname", "job_state": "job_state",
}
_IN = {"activity_id_in": "activity_id", "failed_activity_id_in": "failed_activity_id",
       "execution_id_in": "execution_id"}


def _conditions(query):
    """WHERE conditions of a job log query (schemas.job_log has resolved the precedences)."""
    f = query.filters
    c = job_log_table.c
    if f.get("match_nothing"):
        return [literal(False)]
    where = equal_conditions(job_log_table, f, _EQUALS)
    if "log_id" in f:
        where.append(c.id == f["log_id"])
    for key, column in _IN.items():
        if key in f:
            where.append(c[column].in_(f[key]))
    if "priority_min" in f:
        where.append(c.job_priority >= f["priority_min"])
    if "priority_max" in f:
        where.append(c.job_priority <= f["priority_max"])
    tenant = tenant_condition(c.tenant_id, f, None)
    if tenant is not None:
        where.append(tenant)
    return where


_LOG = RowQuery(job_log_table, DTO_COLUMNS, _conditions,
                access=lambda authentication: access.job_log_conditions(authentication, job_log_table))
list_job_logs = _LOG.list
stream_job_logs = _LOG.stream
count_job_logs = _LOG.count


def _log_id(text):
    """A log id is the decimal text of the row's key (A19); anything else names no row."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def get_job_log(log_id, authentication=None):
    """The entry, or None when there is none the caller may read (another tenant's entry, or
    one without ``READ_HISTORY``, does not exist for it, A16)."""
    number = _log_id(log_id)
    if number is None:
        return None
    columns = [job_log_table.c[name] for name in DTO_COLUMNS]
    return db.session.execute(select(*columns).where(
        job_log_table.c.id == number, *access.job_log_conditions(authentication, job_log_table))).mappings().first()


def get_job_log_stacktrace(log_id, authentication=None):
    """``(found, stacktrace)``: whether the row exists for the caller, and its stack trace (None: none)."""
    number = _log_id(log_id)
    if number is None:
        return False, None
    row = db.session.execute(select(job_log_table.c.job_exception_stacktrace).where(
        job_log_table.c.id == number, *access.job_log_conditions(authentication, job_log_table))).first()
    return (False, None) if row is None else (True, row[0])


# --- the outcome of a set-retries batch ---------------------------------------------------

TOP_FAILURES = 5


def batch_outcome(batch_id, authentication=None):
    """What became of the jobs a set-retries batch revived (A19), or None for an unknown batch
    (or one the caller may not read in the history: ``READ_HISTORY`` on the batch, A16).

    Every success and failure event of a revived job carries the batch id
    (``revived_by_batch_id``, set on the job by the batch's slice), so the outcome reads only
    the batch's own events through their partial index: per job, its latest verdict (succeeded
    if it ever succeeded since, else failed again), counted; and the failure messages, by jobs.
    """
    if not is_storable(batch_id):
        return None
    h = historic_batch_table.c
    readable = access.batch_conditions(authentication, historic_batch_table, "READ_HISTORY")
    batch = db.session.execute(
        select(h.type, h.element_count, h.skipped_elements).where(h.id == batch_id, *readable)).first()
    if batch is None:
        return None
    if batch.type != BATCH_TYPE_SET_JOB_RETRIES:
        raise InvalidRequest(f"Historic batch '{batch_id}' is a {batch.type} batch: an outcome is kept for "
                             f"{BATCH_TYPE_SET_JOB_RETRIES} batches only")
    c = job_log_table.c
    revived = (c.revived_by_batch_id == batch_id, c.job_state.in_((FAILED, SUCCESSFUL)))
    per_job = select(c.job_id, func.max(c.job_state).label("verdict")).where(*revived).group_by(c.job_id).subquery()
    verdicts = dict(db.session.execute(
        select(per_job.c.verdict, func.count()).group_by(per_job.c.verdict)).all())
    jobs = func.count(c.job_id.distinct())
    failures = db.session.execute(
        select(c.job_exception_message, jobs.label("jobs"))
        .where(c.revived_by_batch_id == batch_id, c.job_state == FAILED)
        .group_by(c.job_exception_message).order_by(jobs.desc(), c.job_exception_message)
        .limit(TOP_FAILURES)).all()
    updated = batch.element_count - batch.skipped_elements
    succeeded, failed_again = verdicts.get(SUCCESSFUL, 0), verdicts.get(FAILED, 0)
    return {
        "elements": batch.element_count,
        "updated": updated,
        "skipped": batch.skipped_elements,
        "succeeded": succeeded,
        "failedAgain": failed_again,
        "pending": max(0, updated - succeeded - failed_again),
        "newFailures": [{"message": message, "count": count} for message, count in failures],
    }
