"""The only Celery entry point: ``celery -A workers.celery_app worker``.

The Flask app is built once per worker process here (never per task); each task call gets an
app context from the task class set up in ``app.celery_setup.celery_init_app``.
"""

import logging
import threading

from celery import signals

from app import create_app
from app.core.names import TASK_ACQUIRE
from app.extensions import db

flask_app = create_app(serving=True)  # refuses to start with authentication on and no administrator
celery = flask_app.extensions["celery"]
app = celery  # what `celery -A workers.celery_app` looks for

# Task modules, imported after the app exists so their shared_tasks bind to it.
import workers.executor  # noqa: E402,F401

log = logging.getLogger(__name__)


@signals.worker_process_init.connect
def _dispose_engine_after_fork(**kwargs):
    """A forked pool child must never reuse the parent's pooled connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)


@signals.worker_ready.connect
def _start_sweep(sender=None, **kwargs):
    """Every worker sends an acquisition round every JOB_SWEEP_INTERVAL_SECONDS.

    This is the periodic sweep: it starts due timers and jobs whose lock expired because a
    worker died. Each worker runs its own, so there is no single beat process to keep alive,
    and a worker only sweeps for the handler types it serves.
    """
    interval = flask_app.config["JOB_SWEEP_INTERVAL_SECONDS"]
    stop = threading.Event()

    def sweep():
        while not stop.wait(interval):
            try:
                with flask_app.app_context():
                    flask_app.extensions["dispatcher"].send(TASK_ACQUIRE, expires=interval * 2)
            except Exception as exc:  # noqa: BLE001 - the broker may be restarting
                log.warning("sweep could not reach the broker: %s", exc)

    threading.Thread(target=sweep, name="jobservice-sweep", daemon=True).start()
    signals.worker_shutdown.connect(lambda **_: stop.set(), weak=False)
    # Start right away as well: work may have been waiting while no worker ran.
    with flask_app.app_context():
        try:
            flask_app.extensions["dispatcher"].send(TASK_ACQUIRE, expires=interval * 2)
        except Exception as exc:  # noqa: BLE001
            log.warning("initial sweep could not reach the broker: %s", exc)
