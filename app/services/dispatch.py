"""Waking the workers after a commit.

Everything is sent by task name with ids and JSON primitives only. Sending happens *after* the
database commit that made the work visible (a worker must never look for a row the sender has
not committed yet): services mark the session with :func:`wake_executor_after_commit` and the
``after_commit`` listener sends one hint per transaction. A hint that cannot be sent (broker
down) is only logged: the workers' periodic sweep finds the work in the database anyway, which
is where recovery lives.

On PostgreSQL the same transaction also sends ``NOTIFY jobservice_wake`` (spec A25): PostgreSQL
delivers it at the commit, and never for a rollback, to every worker process's listener
(app.services.executor.runtime), which wakes its executor at once, without the broker's hops
(Redis, the Celery consumer, the pool's pipe). The broker hint is still sent: it is what wakes
workers behind a transaction-mode pooler (PgBouncer), where LISTEN does not work and
``JOB_WAKE_NOTIFY`` is turned off.
"""

import logging

from flask import current_app, has_app_context
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.core.names import TASK_ACQUIRE

log = logging.getLogger(__name__)

_WAKE_FLAG = "jobservice.wake_executor"
# The PostgreSQL channel the workers LISTEN on for wake-ups.
WAKE_CHANNEL = "jobservice_wake"
WAKE_NOTIFY = text(f"SELECT pg_notify('{WAKE_CHANNEL}', '')")


def get_dispatcher():
    """The dispatcher of the current app (a recorder in the tests)."""
    return current_app.extensions["dispatcher"]


def notify_enabled(bind):
    """True when wake-ups also travel as a PostgreSQL NOTIFY (``JOB_WAKE_NOTIFY``, PostgreSQL only)."""
    return has_app_context() and current_app.config["JOB_WAKE_NOTIFY"] and bind.dialect.name == "postgresql"


def wake_executor_after_commit(session):
    """Ask the workers to acquire jobs once the current transaction has committed.

    On PostgreSQL the wake-up NOTIFY is sent in the transaction now (once per transaction), so
    that the commit itself delivers it. Not inside a worker process: PostgreSQL serialises the
    commits of notifying transactions, which would queue the worker processes' batch slices
    behind each other; there the runtime sends one NOTIFY after the commit, on its own
    connection, for all the commits of one round (app.services.executor.runtime)."""
    if (not session.info.get(_WAKE_FLAG) and "executor_runtime" not in current_app.extensions
            and notify_enabled(session.get_bind())):
        session.execute(WAKE_NOTIFY)
    session.info[_WAKE_FLAG] = True


@event.listens_for(Session, "after_commit")
def _send_wake_hint(session):
    if not session.info.pop(_WAKE_FLAG, False):
        return
    if not has_app_context():
        return
    try:
        get_dispatcher().send(TASK_ACQUIRE, expires=60)
    except Exception as exc:  # noqa: BLE001 - a lost hint is recovered by the sweep
        log.warning("could not wake the executor (%s); the periodic sweep will pick the work up", exc)


@event.listens_for(Session, "after_rollback")
def _forget_wake_hint(session):
    session.info.pop(_WAKE_FLAG, None)
