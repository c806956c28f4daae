"""Execution: run one acquired job, then delete it or record its failure (Camunda's failed-job path).

The finishing transaction locks the job row and checks the lock owner token and revision the
task carries: a task for a job it no longer holds (lock expired and re-acquired, job changed or
deleted meanwhile) does nothing, which makes redelivery and duplicates harmless.
"""

import logging
import traceback
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.dates import utcnow
from app.extensions import db
from app.models.tables import job_table, stacktrace_table
from app.services.dispatch import wake_executor_after_commit
from app.services.executor.acquire import unlock_job
from app.services.executor.handlers import JobContext, enabled_handlers
from app.services.incidents import create_failed_job_incidents, delete_failed_job_incidents

log = logging.getLogger(__name__)

MAX_EXCEPTION_MESSAGE = 4000


def _release_stale_lock(job_id, token):
    """The job changed under us (an operator bumped its revision while it was acquired): drop
    our lock so that it is acquired again at once, in its new state, instead of waiting for
    the lock to expire. A lock another worker holds now is left alone."""
    c = job_table.c
    released = db.session.execute(
        update(job_table).where(c.id == job_id, c.lock_owner == token)
        .values(lock_owner=None, lock_expiration_time=None, revision=c.revision + 1)).rowcount
    if released:
        wake_executor_after_commit(db.session)
    db.session.commit()
    return "skipped"


def _load_held_job(job_id, token, revision, for_update):
    """The job row if this token still holds it at this revision, else None."""
    c = job_table.c
    statement = select(job_table).where(c.id == job_id, c.lock_owner == token, c.revision == revision)
    if for_update:
        statement = statement.with_for_update()
    return db.session.execute(statement).mappings().first()


def execute_job(job_id, token, revision, failures=None):
    """Run one acquired job. Returns ``"done"``, ``"failed"`` or ``"skipped"``.

    ``failures``, when given, receives the handler's exception (``POST /job/{id}/execute``
    reports its message to the caller)."""
    job = _load_held_job(job_id, token, revision, for_update=False)
    db.session.commit()  # no transaction stays open while the handler works
    if job is None:
        log.info("job %s is no longer held by %s at revision %s; nothing to do", job_id, token, revision)
        return _release_stale_lock(job_id, token)
    handler = enabled_handlers().get(job["handler_type"])
    if handler is None:
        unlock_job(job_id, token)
        return "skipped"
    context = JobContext(id=job["id"], handler_type=job["handler_type"],
                         configuration=job["handler_configuration"] or {}, retries=job["retries"],
                         batch_id=job["batch_id"], session=db.session)
    try:
        # The finishing transaction: lock the row and re-check the token first, so that two
        # deliveries of one job serialise here and only the holder applies its effects.
        if _load_held_job(job_id, token, revision, for_update=True) is None:
            db.session.rollback()
            return _release_stale_lock(job_id, token)
        handler(context)
        deleted = db.session.execute(
            delete(job_table).where(job_table.c.id == job_id, job_table.c.lock_owner == token,
                                    job_table.c.revision == revision)).rowcount
        if deleted != 1:
            db.session.rollback()
            return _release_stale_lock(job_id, token)
        delete_failed_job_incidents([job_id])
        db.session.commit()
    except (OperationalError, InterfaceError):
        # A database conflict or outage is not the job's fault: nothing was applied, the lock is
        # still ours, and the task's retry runs the job again without counting a failure.
        db.session.rollback()
        raise
    except Exception as error:  # noqa: BLE001 - any handler error is the job's failure
        db.session.rollback()
        if failures is not None:
            failures.append(error)
        if record_failure(job_id, token, revision, error):
            return "failed"
        return _release_stale_lock(job_id, token)
    for callback in context.after_commit:
        callback()
    return "done"


def record_failure(job_id, token, revision, error):
    """The failed-job path (spec B.5.6): unlock, retries - 1, exception stored, incident at 0."""
    c = job_table.c
    now = utcnow()
    message = (str(error) or type(error).__name__)[:MAX_EXCEPTION_MESSAGE]
    stacktrace = "".join(traceback.format_exception(error))
    delay = current_app.config["JOB_RETRY_DELAY_SECONDS"]
    values = dict(
        # A job run at 0 retries (only on request: acquisition needs retries > 0) stays at 0.
        retries=case((c.retries > 0, c.retries - 1), else_=0),
        exception_message=message,
        failed_activity_id=c.activity_id,
        has_stacktrace=True,
        lock_owner=None,
        lock_expiration_time=None,
        revision=c.revision + 1,
    )
    if delay:
        values["due_date"] = now + timedelta(seconds=delay)
    row = db.session.execute(
        update(job_table)
        .where(c.id == job_id, c.lock_owner == token, c.revision == revision)
        .values(**values)
        .returning(c.retries)
    ).first()
    if row is None:
        db.session.rollback()
        return False
    db.session.execute(delete(stacktrace_table).where(stacktrace_table.c.job_id == job_id))
    db.session.execute(insert(stacktrace_table).values(job_id=job_id, stacktrace=stacktrace))
    if row.retries == 0:
        create_failed_job_incidents([job_id], message, now)
    else:
        wake_executor_after_commit(db.session)
    db.session.commit()
    log.info("job %s failed (%s), %s retries left", job_id, message, row.retries)
    return True
