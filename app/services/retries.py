"""Setting retries on a set of jobs (spec B.5.12), set-based.

One function serves ``PUT /job/{id}/retries`` (a set of one) and every slice of a
set-job-retries batch (up to ``invocationsPerBatchJob`` ids). On PostgreSQL a slice is one
statement with the ids as one array parameter: it locks the rows in id order (two batches
over the same jobs cannot deadlock), writes retries (and the due date when one was supplied),
clears inconsistent locks, bumps the revision and returns each job's old retries, from which
incidents are resolved (0 -> n) or created (n -> 0). The columns it writes are in no index,
so the update stays HOT.
"""

from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import DateTime, Integer, String

from app.dispatch import wake_executor_after_commit
from app.extensions import db
from app.models import Job
from app.services.executor import create_failed_job_incidents, resolve_failed_job_incidents

job_table = Job.__table__

UNSET = object()  # "dueDate absent": leave due dates alone (null means: set them to null)

_PG_SET_RETRIES = """
WITH old AS (
    SELECT id, retries, lock_owner, lock_expiration_time
    FROM job WHERE id = ANY(:ids) ORDER BY id FOR UPDATE
)
UPDATE job AS j SET
    retries = :retries,
    {due_date}
    lock_owner = CASE WHEN {inconsistent} THEN NULL ELSE j.lock_owner END,
    lock_expiration_time = CASE WHEN {inconsistent} THEN NULL ELSE j.lock_expiration_time END,
    revision = j.revision + 1
FROM old
WHERE j.id = old.id
RETURNING j.id, old.retries
"""
# Camunda's "inconsistent lock" (JobEntity): an owner without expiry, or a failed job still locked.
_INCONSISTENT = "(old.lock_owner IS NOT NULL AND (old.lock_expiration_time IS NULL OR old.retries = 0))"


@dataclass
class RetriesResult:
    updated: list = field(default_factory=list)
    missing: list = field(default_factory=list)


def _postgres_update(ids, retries, due_date):
    sql = _PG_SET_RETRIES.format(
        due_date="" if due_date is UNSET else "due_date = :due_date,",
        inconsistent=_INCONSISTENT,
    )
    statement = text(sql).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("retries", type_=Integer))
    params = {"ids": list(ids), "retries": retries}
    if due_date is not UNSET:
        statement = statement.bindparams(bindparam("due_date", type_=DateTime))
        params["due_date"] = due_date
    return [(row[0], row[1]) for row in db.session.execute(statement, params)]


def _portable_update(ids, retries, due_date):
    """The same effects in three statements, for SQLite (single writer, so no races)."""
    c = job_table.c
    old = db.session.execute(
        select(c.id, c.retries, c.lock_owner, c.lock_expiration_time).where(c.id.in_(ids))
    ).all()
    if not old:
        return []
    found = [row.id for row in old]
    inconsistent = [row.id for row in old
                    if row.lock_owner is not None and (row.lock_expiration_time is None or row.retries == 0)]
    values = {"retries": retries, "revision": c.revision + 1}
    if due_date is not UNSET:
        values["due_date"] = due_date
    values["lock_owner"] = case((c.id.in_(inconsistent), None), else_=c.lock_owner) if inconsistent else c.lock_owner
    values["lock_expiration_time"] = (case((c.id.in_(inconsistent), None), else_=c.lock_expiration_time)
                                      if inconsistent else c.lock_expiration_time)
    db.session.execute(update(job_table).where(c.id.in_(found)).values(**values))
    return [(row.id, row.retries) for row in old]


def set_job_retries(ids, retries, due_date=UNSET):
    """Apply ``retries`` (and ``due_date`` unless UNSET) to the jobs ``ids`` that exist.

    Runs in the caller's transaction; the caller commits. Returns which ids were updated and
    which did not exist. Waking the executor is scheduled for after the commit.
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return RetriesResult()
    if db.session.get_bind().dialect.name == "postgresql":
        rows = _postgres_update(ids, retries, due_date)
    else:
        rows = _portable_update(ids, retries, due_date)
    updated = [job_id for job_id, _ in rows]
    if retries > 0:
        resolve_failed_job_incidents([job_id for job_id, old in rows if old == 0])
        if updated:
            wake_executor_after_commit(db.session)
    else:
        create_failed_job_incidents([job_id for job_id, old in rows if old > 0], None)
    found = set(updated)
    return RetriesResult(updated=updated, missing=[job_id for job_id in ids if job_id not in found])
