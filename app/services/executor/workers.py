"""Worker leases: registration, heartbeats, dead workers, lease extension.

Every process that executes jobs registers a ``worker`` row and rewrites its ``heartbeat_at``
every ``JOB_HEARTBEAT_INTERVAL_SECONDS``; the jobs it acquires carry its id as ``lock_owner``.
A worker whose heartbeat is older than ``JOB_DEAD_WORKER_SECONDS`` is dead (killed, frozen, cut
off from the database): :func:`dead_worker_ids` is part of the acquisition's conditions, so any
live worker's next round takes its jobs over at once, long before their
``lock_expiration_time``. A lock whose owner has no row (a request's ``POST /job/{id}/execute``,
a lock taken by an older release) is only ever freed by its expiration time.

Taking over is safe because finishing is fenced: the acquisition bumps the job's revision, and
the old holder's finishing statement matches on owner and revision, so a worker that was only
paused and wakes up later commits nothing.

A live worker keeps the locks of the jobs it holds from expiring (:func:`extend_leases`), so a
handler that runs longer than ``JOB_LOCK_TIME_SECONDS`` is not run a second time by another
worker. Rows of dead workers are deleted once every lock they could have set has expired
(:func:`purge_dead_workers`), so a lock is never left without either a stale owner row or an
expiration time to free it.
"""

import os
import socket
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.core.dates import utcnow
from app.core.permissions import SYSTEM
from app.extensions import db
from app.models.tables import job_table, worker_table
from app.services.auth import check_authorization
from app.services.sql import in_ids


def new_worker_id():
    """``<hostname>:<pid>:<nonce>``: readable for operators, unique even when a pid is reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def heartbeat(worker_id, now=None):
    """Record that ``worker_id`` is alive, registering it if it has no row; commits.

    Returns False when the row had to be (re)created: the worker was new, or it had been
    declared dead and purged while it was frozen (its jobs may have been taken over; the fencing
    makes whatever it still finishes of them a no-op).
    """
    now = now or utcnow()
    w = worker_table.c
    updated = db.session.execute(
        update(worker_table).where(w.id == worker_id).values(heartbeat_at=now)).rowcount
    if updated:
        db.session.commit()
        return True
    try:
        db.session.execute(insert(worker_table).values(
            id=worker_id, hostname=socket.gethostname(), pid=os.getpid(), started_at=now, heartbeat_at=now))
        db.session.commit()
    except IntegrityError:
        # Another thread of this process registered it a moment ago.
        db.session.rollback()
    return False


def dead_before(now):
    """Workers whose last heartbeat is older than this are dead."""
    return now - timedelta(seconds=current_app.config["JOB_DEAD_WORKER_SECONDS"])


def dead_worker_ids(threshold):
    """``SELECT id`` of the workers whose heartbeat is older than ``threshold`` (a value or a
    bound parameter; see :func:`dead_before`)."""
    return select(worker_table.c.id).where(worker_table.c.heartbeat_at < threshold)


def extend_leases(worker_id, job_ids, now=None):
    """Push the lock expiration of the jobs this worker still holds to now + the lock time.

    The revision is left alone: extending is the holder's own bookkeeping, not a change of the
    job, and bumping it would fence the holder out of its own job. Commits; returns the count.
    """
    if not job_ids:
        return 0
    now = now or utcnow()
    c = job_table.c
    extended = db.session.execute(
        update(job_table).where(in_ids(c.id, job_ids), c.lock_owner == worker_id)
        .values(lock_expiration_time=now + timedelta(seconds=current_app.config["JOB_LOCK_TIME_SECONDS"]))
    ).rowcount
    db.session.commit()
    return extended


def release_jobs(worker_id, job_ids):
    """Unlock jobs this worker acquired but will not run (it is stopping); commits.

    The revision is bumped like every lock change, so a copy of the job still in some round
    somewhere is fenced out.
    """
    if not job_ids:
        return 0
    c = job_table.c
    released = db.session.execute(
        update(job_table).where(in_ids(c.id, job_ids), c.lock_owner == worker_id)
        .values(lock_owner=None, lock_expiration_time=None, revision=c.revision + 1)
    ).rowcount
    db.session.commit()
    return released


def retire_worker(worker_id, still_holding):
    """A worker stops: delete its row, or, if it could not finish or release every job it holds,
    mark it dead at once so that the others take those jobs over right away. Commits."""
    w = worker_table.c
    if still_holding:
        # Just past the threshold: dead now, purged only once its locks have expired.
        dead_since = utcnow() - timedelta(seconds=current_app.config["JOB_DEAD_WORKER_SECONDS"], milliseconds=1)
        db.session.execute(update(worker_table).where(w.id == worker_id).values(heartbeat_at=dead_since))
    else:
        db.session.execute(delete(worker_table).where(w.id == worker_id))
    db.session.commit()


def purge_dead_workers(now=None):
    """Delete the rows of workers dead for longer than the lock time; commits; returns the count.

    A worker extends its locks only while it heartbeats, so by then every lock it set has
    expired and its jobs are acquirable without the row.
    """
    now = now or utcnow()
    config = current_app.config
    threshold = now - timedelta(seconds=config["JOB_DEAD_WORKER_SECONDS"] + config["JOB_LOCK_TIME_SECONDS"])
    purged = db.session.execute(delete(worker_table).where(worker_table.c.heartbeat_at < threshold)).rowcount
    db.session.commit()
    return purged


HELD_JOB_IDS_SHOWN = 20


def list_workers(authentication, now=None):
    """The registered workers for the operator console (``GET /api/workers``, decision A23):
    each with ``alive`` (heartbeat newer than the dead-worker threshold), how many jobs it holds
    and the ids of the first :data:`HELD_JOB_IDS_SHOWN` of them. Needs READ on SYSTEM (Camunda's
    resource for what the engine itself is doing); members of camunda-admin always pass."""
    check_authorization(authentication, "READ", SYSTEM)
    now = now or utcnow()
    threshold = dead_before(now)
    w, j = worker_table.c, job_table.c
    workers = db.session.execute(select(worker_table).order_by(w.started_at, w.id)).mappings().all()
    counts = dict(db.session.execute(
        select(j.lock_owner, func.count()).where(j.lock_owner.is_not(None)).group_by(j.lock_owner)).all())
    listed = []
    for row in workers:
        held = counts.get(row["id"], 0)
        job_ids = list(db.session.scalars(
            select(j.id).where(j.lock_owner == row["id"]).order_by(j.id).limit(HELD_JOB_IDS_SHOWN))) if held else []
        listed.append({**row, "alive": row["heartbeat_at"] >= threshold, "held_job_count": held,
                       "held_job_ids": job_ids})
    db.session.commit()
    return listed
