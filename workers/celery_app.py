"""The only Celery entry point: ``celery -A workers.celery_app worker``.

The Flask app is built once per worker process here (never per task). Celery is the process
supervisor and the carrier of wake-up hints; the jobs themselves run in each pool child's
executor runtime (app.services.executor.runtime), which acquires rounds from the database,
heartbeats, and sweeps on its own. With the prefork pool every child runs one runtime, started
after the fork; with a pool that runs tasks in this process (``--pool=solo``) this process runs
it. A child that exits normally retires its worker row; one that is killed is noticed by the
others through its stale heartbeat.
"""

import logging
import os
import shutil
import tempfile

# Before anything imports prometheus_client (it picks its mode once): a worker that serves its
# pool children's metrics (WORKER_METRICS_PORT) needs them to write to a shared directory.
# A directory made here is removed when the worker shuts down.
_CREATED_METRICS_DIR = None
if os.environ.get("WORKER_METRICS_PORT") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _CREATED_METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="jobservice-worker-metrics-")

from celery import signals
from celery.concurrency.prefork import TaskPool as PreforkPool

from app import create_app
from app.extensions import db
from app.services.executor.runtime import ExecutorRuntime
from app.services.metrics import serve_worker_metrics

# serving=True: refuses to start with authentication on and no administrator. No pre-ping per
# checkout: a worker runs thousands of short transactions, and its loops retry one that fails on
# a connection the database dropped.
flask_app = create_app(serving=True, overrides={"DB_POOL_PRE_PING": False})
celery = flask_app.extensions["celery"]
app = celery  # what `celery -A workers.celery_app` looks for

# Task modules, imported after the app exists so their shared_tasks bind to it.
import workers.executor  # noqa: E402,F401

# This module is imported by the worker's main process; a prefork pool child is forked from it.
_MAIN_PID = os.getpid()


def _start_runtime(in_pool_child):
    # Hints hold a busy pool child so that the pool gives the next one to an idle sibling
    # (workers/executor.py); a pool that runs tasks in the main process must not be held.
    flask_app.extensions["executor_hint_hold"] = in_pool_child
    runtime = ExecutorRuntime(flask_app)
    runtime.start()
    return runtime


@signals.worker_process_init.connect
def _start_runtime_in_pool_process(**kwargs):
    """Sent in every prefork pool child, and in the main process by the solo pool."""
    in_pool_child = os.getpid() != _MAIN_PID
    if in_pool_child:
        # A forked child must never reuse the parent's pooled connections.
        with flask_app.app_context():
            db.engine.dispose(close=False)
    _start_runtime(in_pool_child)


@signals.worker_ready.connect
def _start_runtime_in_this_process(sender=None, **kwargs):
    """Pools that neither fork nor announce their process (threads) run it in the worker itself."""
    if isinstance(getattr(sender, "pool", None), PreforkPool) or "executor_runtime" in flask_app.extensions:
        return
    _start_runtime(in_pool_child=False)


@signals.worker_ready.connect
def _serve_metrics(**kwargs):
    """WORKER_METRICS_PORT: this worker's main process serves the metrics its pool children
    write (README "Metrics", spec A22)."""
    port = flask_app.config["WORKER_METRICS_PORT"]
    if port:
        serve_worker_metrics(flask_app.config["WORKER_METRICS_HOST"], port, flask_app.config["METRICS_TOKEN"])
        logging.getLogger(__name__).info("serving this worker's metrics on port %s (GET /metrics)", port)


@signals.worker_shutdown.connect
def _remove_metrics_dir(**kwargs):
    if _CREATED_METRICS_DIR and os.getpid() == _MAIN_PID:
        shutil.rmtree(_CREATED_METRICS_DIR, ignore_errors=True)


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _stop_runtime(**kwargs):
    """A pool child ends: on the pool's own shutdown, and on a SIGTERM sent to it directly
    (platforms such as Heroku signal every process at once), which billiard turns into a
    normal exit of the child. The running job finishes, the rest of the round is given back,
    the worker row is retired. (In the prefork main process there is no runtime to stop.)"""
    runtime = flask_app.extensions.get("executor_runtime")
    if runtime is not None:
        runtime.stop()


def _quiet_hint_tasks():
    """A hint is not an event: at INFO, Celery would log two lines per hint ("received",
    "succeeded"), a pair per round on a busy system and per request that made work visible on
    an idle one. Jobs log their failures themselves; LOG_LEVEL=DEBUG shows the hints again."""
    if flask_app.config["LOG_LEVEL"] != "DEBUG":
        for name in ("celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(name).setLevel(logging.WARNING)


_quiet_hint_tasks()
