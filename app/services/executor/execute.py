"""Execution: run one acquired job, then delete it or record its failure (Camunda's failed-job path).

Each job runs in its own transaction: the handler's database work (through ``context.session``)
and the job's deletion commit together. Finishing is one fenced statement, ``DELETE FROM job
WHERE id = :id AND lock_owner = :owner AND revision = :revision``: if the job was changed
(an operator bumped its revision), deleted, or taken over by another worker since it was
acquired, nothing matches and the whole transaction, the handler's work included, is rolled
back. That makes a second run of a job (its worker was thought dead, a message was delivered
twice) harmless: its effects apply once.
"""

import logging
import traceback
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.dates import utcnow
from app.core.logs import job_context
from app.core.retry_cycles import failure_retries
from app.extensions import db
from app.models.tables import job_definition_table, job_table, stacktrace_table
from app.services import job_log
from app.services.dispatch import wake_executor_after_commit
from app.services.executor.acquire import AcquiredJob, unlock_job
from app.services.executor.handlers import JobContext, enabled_handlers
from app.services.incidents import create_failed_job_incidents, delete_failed_job_incidents
from app.services.jobs.retry_cycles import retry_cycle

log = logging.getLogger(__name__)

MAX_EXCEPTION_MESSAGE = 4000

DONE, FAILED, SKIPPED = "done", "failed", "skipped"

# The fenced finishing statement, built once: it runs once per job, and building and hashing a
# new statement object each time cost more CPU than the database spent on it.
_FINISH = delete(job_table).where(job_table.c.id == bindparam("job_id"),
                                  job_table.c.lock_owner == bindparam("owner"),
                                  job_table.c.revision == bindparam("revision"))


def _finish_in_session(fence):
    """The fenced DELETE in the session's transaction, with the success event when the job log
    is on (spec A19); returns how many jobs it finished (0 or 1)."""
    if not job_log.enabled():
        return db.session.execute(_FINISH, fence).rowcount
    parameters = job_log.success_parameters(fence, utcnow())
    statement = job_log.finish_with_log_statement()
    if statement is not None:
        return db.session.execute(statement, parameters).rowcount
    job_log.log_success_before_delete(parameters)
    return db.session.execute(_FINISH, fence).rowcount


def _finish_autocommit(autocommit, fence):
    """The one-statement finish on the autocommit connection; None where it takes two
    statements (SQLite with the job log on), which the session's transaction then runs."""
    if not job_log.enabled():
        return autocommit.execute(_FINISH, fence).rowcount
    statement = job_log.finish_with_log_statement()
    if statement is None:
        return None
    return autocommit.execute(statement, job_log.success_parameters(fence, utcnow())).rowcount


def _fenced_out(job_id, token):
    log.info("job %s changed or was taken over while %s ran it; its effects were discarded", job_id, token)
    return _release_stale_lock(job_id, token)


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
    return SKIPPED


def load_held_job(job_id, token, revision):
    """The job as an :class:`AcquiredJob` if ``token`` holds it at ``revision``, else None."""
    c = job_table.c
    row = db.session.execute(
        select(c.id, c.revision, c.handler_type, c.handler_configuration, c.retries, c.batch_id)
        .where(c.id == job_id, c.lock_owner == token, c.revision == revision)).first()
    if row is None:
        return None
    return AcquiredJob(id=row.id, lock_owner=token, revision=row.revision, handler_type=row.handler_type,
                       configuration=row.handler_configuration or {}, retries=row.retries, batch_id=row.batch_id)


def execute_job(job_id, token, revision, failures=None, before_finish=None):
    """Run one job held by ``token`` at ``revision``, read by id (a request's execute, a message
    of an older release, a test). Returns ``"done"``, ``"failed"`` or ``"skipped"``.
    ``before_finish``: see :func:`run_job`."""
    job = load_held_job(job_id, token, revision)
    db.session.commit()  # no transaction stays open while the handler works
    if job is None:
        log.info("job %s is no longer held by %s at revision %s; nothing to do", job_id, token, revision)
        return _release_stale_lock(job_id, token)
    with job_context(job.id, job.batch_id):
        return run_job(job, failures, before_finish=before_finish)


def run_job(job, failures=None, autocommit=None, guard=None, before_finish=None):
    """Run an acquired job. Returns ``"done"``, ``"failed"`` or ``"skipped"``.

    ``failures``, when given, receives the handler's exception (``POST /job/{id}/execute``
    reports its message to the caller). ``autocommit``, when given, is a connection in
    autocommit mode on which a job whose handler did no database work is finished by its fenced
    DELETE alone (one round trip instead of BEGIN, DELETE, COMMIT). ``guard``, when given, is
    a context manager factory the handler call runs in (the runtime's time limits). A database
    outage or conflict is raised, not counted as the job's failure: nothing was applied and the
    lock is still the caller's, so it may run the job again. ``before_finish``, when given, is
    called after the handler succeeded, inside the job's transaction (the user operation log
    entry of ``POST /job/{id}/execute``, which so commits only with the job's success).
    """
    handler = enabled_handlers().get(job.handler_type)
    if handler is None:
        unlock_job(job.id, job.lock_owner)
        return SKIPPED
    context = JobContext(id=job.id, handler_type=job.handler_type, configuration=job.configuration,
                         retries=job.retries, batch_id=job.batch_id, session=db.session, autocommit=autocommit)
    fence = {"job_id": job.id, "owner": job.lock_owner, "revision": job.revision}
    try:
        if guard is None:
            handler(context)
        else:
            with guard(job):
                handler(context)
        if autocommit is not None and before_finish is None and job.retries and not db.session().in_transaction():
            # The handler did no database work: the fenced DELETE (with its success event, in
            # the same statement) alone is the transaction.
            finished = _finish_autocommit(autocommit, fence)
            if finished is not None:
                if finished != 1:
                    return _fenced_out(job.id, job.lock_owner)
                return _after_commit(context)
        if before_finish is not None:
            before_finish()
        deleted = _finish_in_session(fence)
        if deleted != 1:
            db.session.rollback()
            return _fenced_out(job.id, job.lock_owner)
        if job.retries == 0:
            # Only a job run on request can have 0 retries (acquisition needs more), and only
            # then can it have a failedJob incident: a job has one exactly while it has 0
            # retries, and the revision fence guarantees these are still its retries.
            delete_failed_job_incidents([job.id])
        db.session.commit()
    except (OperationalError, InterfaceError):
        db.session.rollback()
        raise
    except Exception as error:  # noqa: BLE001 - any handler error is the job's failure
        db.session.rollback()
        if failures is not None:
            failures.append(error)
        if record_failure(job.id, job.lock_owner, job.revision, error):
            return FAILED
        return _fenced_out(job.id, job.lock_owner)
    return _after_commit(context)


def _after_commit(context):
    for callback in context.after_commit:
        callback()
    return DONE


def _failed_job(job_id, token, revision):
    """The held job as the failure needs it (its state before the failure, for the failure
    event and the retry cycle), or None when ``token`` no longer holds it at ``revision``."""
    c, d = job_table.c, job_definition_table.c
    columns = [c[name] for name in job_log.JOB_COLUMNS]
    return db.session.execute(
        select(*columns, c.exception_message, c.has_stacktrace, c.retry_time_cycle,
               d.retry_time_cycle.label("definition_retry_time_cycle"), d.job_type.label("job_definition_type"),
               d.job_configuration.label("job_definition_configuration"))
        .select_from(job_table.outerjoin(job_definition_table, d.id == c.job_definition_id))
        .where(c.id == job_id, c.lock_owner == token, c.revision == revision)).mappings().first()


def record_failure(job_id, token, revision, error):
    """The failed-job path (spec B.5.6, C.10.2): unlock, exception stored, retries - 1 and the
    due date as the job's retry cycle says (none: unchanged, or JOB_RETRY_DELAY_SECONDS later),
    incident at 0, the failure event logged (A19)."""
    c = job_table.c
    now = utcnow()
    message = (str(error) or type(error).__name__)[:MAX_EXCEPTION_MESSAGE]
    stacktrace = "".join(traceback.format_exception(error))
    job = _failed_job(job_id, token, revision)
    if job is None:
        db.session.rollback()
        return False
    values = dict(
        exception_message=message,
        failed_activity_id=c.activity_id,
        has_stacktrace=True,
        lock_owner=None,
        lock_expiration_time=None,
        revision=c.revision + 1,
    )
    cycle = retry_cycle(job["handler_type"], job["retry_time_cycle"], job["batch_id"],
                        job["definition_retry_time_cycle"])
    if cycle is None:
        # A job run at 0 retries (only on request: acquisition needs retries > 0) stays at 0.
        values["retries"] = max(0, job["retries"] - 1)
        delay = current_app.config["JOB_RETRY_DELAY_SECONDS"]
        if delay:
            values["due_date"] = now + timedelta(seconds=delay)
    else:
        # Camunda's custom strategy: the first failure (no exception recorded yet) restarts the
        # retries at the cycle's count, then the interval for those retries is applied.
        first_failure = job["exception_message"] is None and not job["has_stacktrace"]
        values["retries"], values["due_date"] = failure_retries(cycle, job["retries"], first_failure, now)
    updated = db.session.execute(
        update(job_table).where(c.id == job_id, c.lock_owner == token, c.revision == revision).values(**values)
    ).rowcount
    if updated != 1:
        db.session.rollback()
        return False
    db.session.execute(delete(stacktrace_table).where(stacktrace_table.c.job_id == job_id))
    db.session.execute(insert(stacktrace_table).values(job_id=job_id, stacktrace=stacktrace))
    job_log.log_failure(job, message, stacktrace, now)
    if values["retries"] == 0:
        create_failed_job_incidents([job_id], message, now)
    else:
        wake_executor_after_commit(db.session)
    db.session.commit()
    log.info("job %s failed (%s), %s retries left", job_id, message, values["retries"])
    return True
