"""Acquisition: lock a round of executable jobs and hand them to the workers.

Acquisition locks a small batch of executable jobs in one statement (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so workers on many machines never block each other or take the same job), each
with a fresh lock owner token and a lock expiration time. One Celery task per job then carries
``(job id, lock owner, revision)``; app.services.executor.execute runs it.

Recovery lives in the database: a job whose worker died keeps its lock until the expiration
time, after which the periodic sweep acquires it again.
"""

import logging
import os
import socket
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, not_, or_, select, union_all, update

from app.core.dates import utcnow
from app.core.names import TASK_ACQUIRE, TASK_EXECUTE
from app.extensions import db
from app.models.tables import job_definition_table, job_table
from app.services.dispatch import get_dispatcher
from app.services.executor.handlers import enabled_handlers

log = logging.getLogger(__name__)


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


def request_acquisition():
    """Send an acquisition round to the workers now (used by the sweep and by full rounds)."""
    get_dispatcher().send(TASK_ACQUIRE, expires=60)
