"""The job executor: acquisition, execution, failure (spec B.5.6) and incidents.

Acquisition locks a small batch of executable jobs in one statement (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so workers on many machines never block each other or take the same job), each
with a fresh lock owner token and a lock expiration time. One Celery task per job then carries
``(job id, lock owner, revision)``. The finishing transaction locks the job row and checks that
token and revision: a task for a job it no longer holds (lock expired and re-acquired, job
changed or deleted meanwhile) does nothing, which makes redelivery and duplicates harmless.

Recovery lives in the database: a job whose worker died keeps its lock until the expiration
time, after which the periodic sweep acquires it again.
"""

import logging
import os
import socket
import traceback
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, exists, insert, not_, or_, select, union_all, update
from sqlalchemy.exc import InterfaceError, OperationalError

from app.dates import utcnow
from app.dispatch import TASK_ACQUIRE, TASK_EXECUTE, get_dispatcher, wake_executor_after_commit
from app.extensions import db
from app.models import Incident, Job, JobDefinition, JobStacktrace, new_id
from app.models.incident import INCIDENT_TYPE_FAILED_JOB
from app.services.handlers import JobContext, enabled_handlers
from app.services.sql import in_ids

log = logging.getLogger(__name__)

job_table = Job.__table__
job_definition_table = JobDefinition.__table__
incident_table = Incident.__table__
stacktrace_table = JobStacktrace.__table__

MAX_EXCEPTION_MESSAGE = 4000


def lock_owner_token():
    """Who holds a lock: host and process for operators, plus a nonce unique to the acquisition."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def executable_conditions(now):
    """Retries left, due, not suspended (job or job definition), not locked or lock expired."""
    c = job_table.c
    return [
        c.retries > 0,
        or_(c.due_date.is_(None), c.due_date <= now),
        c.suspended.is_(False),
        or_(c.lock_expiration_time.is_(None), c.lock_expiration_time < now),
        not_(exists().where(job_definition_table.c.id == c.job_definition_id,
                            job_definition_table.c.suspended.is_(True))),
    ]


def _acquisition_order(columns):
    return (columns.priority.desc(), columns.due_date.asc().nulls_first())


def acquire_jobs(limit=None, handler_types=None):
    """Lock up to ``limit`` executable jobs; returns ``[(job_id, lock_owner, revision)]``.

    Per handler type, the index ``(handler_type, priority DESC, due_date)`` yields executable
    jobs in order and the scan stops after ``limit`` of them, however long the backlog; the
    best ``limit`` over all types are then locked, skipping rows other workers are locking.
    The executable conditions are repeated at the locking level, where PostgreSQL re-checks
    them against the row version it locks.
    """
    config = current_app.config
    limit = limit or config["JOB_ACQUISITION_SIZE"]
    handler_types = sorted(handler_types or enabled_handlers())
    if not handler_types:
        return []
    now = utcnow()
    token = lock_owner_token()
    c = job_table.c
    per_type = []
    for handler_type in handler_types:
        ranked = (select(c.id, c.priority, c.due_date)
                  .where(c.handler_type == handler_type, *executable_conditions(now))
                  .order_by(*_acquisition_order(c)).limit(limit).subquery())
        per_type.append(select(ranked.c.id, ranked.c.priority, ranked.c.due_date))
    best = (union_all(*per_type) if len(per_type) > 1 else per_type[0]).subquery("best")
    best_ids = select(best.c.id).order_by(*_acquisition_order(best.c)).limit(limit)
    candidates = (
        select(c.id)
        .where(c.id.in_(best_ids.scalar_subquery()), *executable_conditions(now))
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(job_table)
        .where(c.id.in_(candidates.scalar_subquery()))
        .values(lock_owner=token,
                lock_expiration_time=now + timedelta(seconds=config["JOB_LOCK_TIME_SECONDS"]),
                revision=c.revision + 1)
        .returning(c.id, c.revision, c.priority, c.due_date)
    )
    rows = db.session.execute(statement).all()
    db.session.commit()
    # RETURNING comes in no particular order; dispatch in acquisition order.
    rows.sort(key=lambda row: (-row.priority, row.due_date is not None, row.due_date or now))
    return [(row.id, token, row.revision) for row in rows]


def acquire_and_dispatch():
    """One acquisition round: lock jobs and send one execute task per job.

    Returns how many jobs were dispatched; a full round means more work is probably waiting.
    A job whose task cannot be sent is unlocked again so that the next round retries it.
    """
    acquired = acquire_jobs()
    dispatcher = get_dispatcher()
    for job_id, token, revision in acquired:
        try:
            dispatcher.send(TASK_EXECUTE, args=(job_id, token, revision))
        except Exception:  # noqa: BLE001 - the broker is down; the job must not stay locked
            log.exception("could not dispatch job %s; unlocking it", job_id)
            unlock_job(job_id, token)
    return len(acquired)


def unlock_job(job_id, token):
    c = job_table.c
    db.session.execute(
        update(job_table).where(c.id == job_id, c.lock_owner == token)
        .values(lock_owner=None, lock_expiration_time=None, revision=c.revision + 1))
    db.session.commit()


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
        _delete_incidents(job_id)
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
               not_(exists().where(incident_table.c.configuration == c.id,
                                   incident_table.c.incident_type == INCIDENT_TYPE_FAILED_JOB)))
    ).mappings().all()
    if not rows:
        return
    db.session.execute(insert(incident_table), [
        dict(id=new_id(), incident_type=INCIDENT_TYPE_FAILED_JOB,
             incident_message=message if message is not None else row["exception_message"],
             incident_timestamp=now, configuration=row["id"], job_definition_id=row["job_definition_id"],
             process_instance_id=row["process_instance_id"], execution_id=row["execution_id"],
             process_definition_id=row["process_definition_id"],
             activity_id=row["activity_id"] or row["failed_activity_id"],
             failed_activity_id=row["failed_activity_id"], tenant_id=row["tenant_id"])
        for row in rows
    ])


def _delete_incidents(job_id):
    db.session.execute(delete(incident_table).where(
        and_(incident_table.c.configuration == job_id,
             incident_table.c.incident_type == INCIDENT_TYPE_FAILED_JOB)))


def resolve_failed_job_incidents(job_ids):
    """Remove the ``failedJob`` incidents of jobs whose retries went from 0 to more."""
    if job_ids:
        db.session.execute(delete(incident_table).where(
            in_ids(incident_table.c.configuration, job_ids),
            incident_table.c.incident_type == INCIDENT_TYPE_FAILED_JOB))


def request_acquisition():
    """Send an acquisition round to the workers now (used by the sweep and by full rounds)."""
    get_dispatcher().send(TASK_ACQUIRE, expires=60)
