"""Waking the workers after a commit.

Everything is sent by task name with ids and JSON primitives only. Sending happens *after* the
database commit that made the work visible (a worker must never look for a row the sender has
not committed yet): services mark the session with :func:`wake_executor_after_commit` and the
``after_commit`` listener sends one hint per transaction. A hint that cannot be sent (broker
down) is only logged: the workers' periodic sweep finds the work in the database anyway, which
is where recovery lives.
"""

import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.names import TASK_ACQUIRE

log = logging.getLogger(__name__)

_WAKE_FLAG = "jobservice.wake_executor"


def get_dispatcher():
    """The dispatcher of the current app (a recorder in the tests)."""
    return current_app.extensions["dispatcher"]


def wake_executor_after_commit(session):
    """Ask the workers to acquire jobs once the current transaction has committed."""
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
