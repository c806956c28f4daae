"""Executor tasks: thin wrappers over app.services.executor (ids and strings in, nothing out)."""

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.names import TASK_ACQUIRE, TASK_EXECUTE
from app.services.executor import acquire as acquisition
from app.services.executor.execute import execute_job

log = logging.getLogger(__name__)

# Database hiccups are retried with backoff; everything else is the job's own failure, which
# the service records in the job row.
_DB_ERRORS = (OperationalError, InterfaceError)


@shared_task(name=TASK_ACQUIRE, autoretry_for=_DB_ERRORS, retry_backoff=True,
             retry_backoff_max=30, max_retries=5, soft_time_limit=60, time_limit=90)
def acquire():
    """Lock a round of executable jobs and dispatch them; chain another round if it was full."""
    dispatched = acquisition.acquire_and_dispatch()
    if dispatched:
        log.debug("dispatched %d jobs", dispatched)
    if dispatched >= current_app.config["JOB_ACQUISITION_SIZE"]:
        # Queued behind the jobs just sent, so the backlog stays about one round deep.
        acquisition.request_acquisition()
    return dispatched


@shared_task(name=TASK_EXECUTE, autoretry_for=_DB_ERRORS, retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def execute(job_id, lock_owner, revision):
    """Run one acquired job; a stale task (lock lost) is a no-op."""
    outcome = execute_job(job_id, lock_owner, revision)
    log.info("job %s: %s", job_id, outcome)
    return outcome
