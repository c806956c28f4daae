"""Executor tasks: thin wrappers over the executor runtime and services (ids and strings in).

``executor.acquire`` carries no work, only the news that there is some: the process's runtime
acquires and runs it from the database. ``executor.execute`` (one message per job) is how
releases before the runtime ran jobs; a message of theirs still queued is run here, fenced by
its lock owner and revision like any other finishing.
"""

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.names import TASK_ACQUIRE, TASK_EXECUTE
from app.services.executor.execute import execute_job

# Database hiccups are retried with backoff; everything else is the job's own failure, which
# the service records in the job row.
_DB_ERRORS = (OperationalError, InterfaceError)


# How long a hint holds a busy pool child (see acquire).
HINT_HOLD_SECONDS = 2.0


@shared_task(name=TASK_ACQUIRE, soft_time_limit=5, time_limit=10)
def acquire():
    """Wake this process's executor runtime; it runs rounds until the work runs out.

    In a prefork pool child the hint then waits while the executor is busy (up to
    ``HINT_HOLD_SECONDS``). The pool hands a message to a child that is not running a task;
    a hint that returned at once would leave its child looking free, and every hint of a busy
    period would go to that same busy child while its siblings sleep until their sweep. Held,
    the next hint goes to an idle sibling.
    """
    runtime = current_app.extensions.get("executor_runtime")
    if runtime is None:
        return
    runtime.wake()
    if current_app.extensions.get("executor_hint_hold"):
        runtime.wait_until_idle(HINT_HOLD_SECONDS)


@shared_task(name=TASK_EXECUTE, autoretry_for=_DB_ERRORS, retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def execute(job_id, lock_owner, revision):
    """Run one job acquired by an older release; a stale message (lock lost) is a no-op."""
    return execute_job(job_id, lock_owner, revision)
