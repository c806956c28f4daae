"""Jobs in: ingestion (``POST /api/jobs``, the CLI, demo data) and single-job reads."""

from sqlalchemy import insert, select

from app.core.dates import utcnow
from app.core.errors import InvalidRequest, NotFound
from app.core.text import is_storable
from app.extensions import db
from app.models import new_id
from app.models.tables import job_definition_table, job_table, stacktrace_table
from app.services import access, job_log
from app.services.dispatch import wake_executor_after_commit
from app.services.incidents import create_failed_job_incidents
from app.services.jobs.query import JOB_DTO_COLUMNS
from app.services.jobs.retry_cycles import definition_cycles, retries_at_creation


def get_job_row(job_id, columns=JOB_DTO_COLUMNS, authentication=None):
    """One job as its DTO columns; 404 when it does not exist or the caller may not read it (C.7)."""
    # An id no database can store is no job's id (and would make the driver fail).
    row = None if not is_storable(job_id) else db.session.execute(
        select(*[job_table.c[name] for name in columns])
        .where(job_table.c.id == job_id, *access.job_conditions(authentication))
    ).mappings().first()
    if row is None:
        raise NotFound(f"Job with id {job_id} does not exist")
    return row


def _definition_key(item):
    return (item["process_definition_key"], item["activity_id"], item["handler_type"])


def _null_safe_equal(column, value):
    return column.is_(None) if value is None else column == value


def _resolve_job_definitions(items):
    """Reuse or create a job definition per (processDefinitionKey, activityId, handlerType)."""
    wanted = {_definition_key(item): item for item in items if not item.get("job_definition_id")}
    ids = {}
    d = job_definition_table.c
    for key, sample in wanted.items():
        pd_key, activity_id, handler_type = key
        existing = db.session.execute(
            select(d.id).where(_null_safe_equal(d.process_definition_key, pd_key),
                               _null_safe_equal(d.activity_id, activity_id),
                               d.job_type == handler_type).order_by(d.id).limit(1)
        ).scalar()
        if existing is None:
            existing = new_id()
            db.session.execute(insert(job_definition_table).values(
                id=existing, activity_id=activity_id, job_type=handler_type,
                process_definition_id=sample["process_definition_id"], process_definition_key=pd_key,
                suspended=False, tenant_id=sample["tenant_id"], deployment_id=sample["deployment_id"]))
        ids[key] = existing
    for item in items:
        if not item.get("job_definition_id"):
            item["job_definition_id"] = ids[_definition_key(item)]


def create_jobs(items, authentication=None):
    """Insert validated jobs (NewJobSchema dicts) in one transaction and commit.

    ``authentication``: the caller needs ``CREATE_INSTANCE`` on each job's process definition
    and membership of each job's tenant (A16); checked before anything is written.

    Returns the created jobs as JobDto rows, in order, read back *before* the commit: a worker
    may execute and delete a job the moment it is committed.

    All or nothing: a duplicate id, inside the request or against the table, rejects the lot.
    """
    access.check_create_jobs(authentication, items)
    now = utcnow()
    seen = {}
    for index, item in enumerate(items):
        item["id"] = item.get("id") or new_id()
        if item["id"] in seen:
            raise InvalidRequest(f"jobs[{index}].id: '{item['id']}' is also the id of jobs[{seen[item['id']]}]")
        seen[item["id"]] = index
    explicit = [item["id"] for item in items]
    for start in range(0, len(explicit), 5000):
        taken = db.session.execute(
            select(job_table.c.id).where(job_table.c.id.in_(explicit[start:start + 5000])).limit(1)
        ).scalar()
        if taken is not None:
            raise InvalidRequest(f"jobs[{seen[taken]}].id: a job with id '{taken}' already exists")
    try:
        _resolve_job_definitions(items)
        cycles = definition_cycles(item["job_definition_id"] for item in items)
        rows = []
        for item in items:
            rows.append({
                "id": item["id"],
                "revision": 1,
                "type": item["type"],
                "handler_type": item["handler_type"],
                "handler_configuration": item["handler_configuration"],
                "job_definition_id": item["job_definition_id"],
                "due_date": item["due_date"],
                "process_instance_id": item["process_instance_id"],
                "execution_id": item["execution_id"],
                "process_definition_id": item["process_definition_id"],
                "process_definition_key": item["process_definition_key"],
                "activity_id": item["activity_id"],
                "deployment_id": item["deployment_id"],
                "retries": (retries_at_creation(item["handler_type"], item.get("retry_time_cycle"),
                                                cycles.get(item["job_definition_id"]))
                            if item["retries"] is None else item["retries"]),
                "exception_message": item["exception_message"],
                "failed_activity_id": item["failed_activity_id"],
                "has_stacktrace": item["exception_stacktrace"] is not None,
                "suspended": item["suspended"],
                "priority": item["priority"],
                "tenant_id": item["tenant_id"],
                "create_time": item["create_time"] or now,
                "batch_id": None,
                "retry_time_cycle": item.get("retry_time_cycle"),
            })
        db.session.execute(insert(job_table), rows)
        traces = [{"job_id": item["id"], "stacktrace": item["exception_stacktrace"]}
                  for item in items if item["exception_stacktrace"] is not None]
        if traces:
            db.session.execute(insert(stacktrace_table), traces)
        _create_incidents_for_failed(rows, now)
        job_log.log_created([row["id"] for row in rows], now)
        created = list_jobs_by_ids([row["id"] for row in rows])
        wake_executor_after_commit(db.session)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return created


def _create_incidents_for_failed(rows, now):
    """A job that arrives with 0 retries gets its failedJob incident, as if it had failed here."""
    failed = [row["id"] for row in rows if row["retries"] == 0]
    if failed:
        create_failed_job_incidents(failed, None, now)


def list_jobs_by_ids(ids):
    """JobDto rows for ``ids``, in that order."""
    found = {}
    for start in range(0, len(ids), 5000):
        for row in db.session.execute(
            select(*[job_table.c[name] for name in JOB_DTO_COLUMNS])
            .where(job_table.c.id.in_(ids[start:start + 5000]))
        ).mappings():
            found[row["id"]] = row
    return [found[job_id] for job_id in ids if job_id in found]
