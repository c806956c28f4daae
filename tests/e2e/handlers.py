"""Handlers the end-to-end workers load (JOB_HANDLER_MODULES=tests.e2e.handlers).

``test.record`` appends a start and an end line to the file named in its configuration, so the
test process can see which worker process ran which job, in which order and how often.
``test.record-and-bump`` does the same and, at the end, raises a marker job's priority by one
through the job's own transaction: a database effect the fencing must apply once.

``E2E_SLOW_HANDLERS`` (JSON, handler type -> seconds) makes built-in handlers sleep first, so
that a fault injected by a test lands in the middle of a batch: e.g. ``{"set-job-retries": 0.2}``.
"""

import json
import os
import time

from sqlalchemy import update

from app.models.tables import job_table
from app.services.executor import handlers
from app.services.executor.handlers import job_handler


def _append(path, **entry):
    with open(path, "a") as log:
        log.write(json.dumps({**entry, "pid": os.getpid(), "t": time.time()}) + "\n")


@job_handler("test.record")
def record(context):
    path = context.configuration["log"]
    _append(path, job=context.id, event="start", name=context.configuration.get("name"))
    time.sleep(float(context.configuration.get("seconds", 0)))
    _append(path, job=context.id, event="end", name=context.configuration.get("name"))


@job_handler("test.record-and-bump")
def record_and_bump(context):
    path = context.configuration["log"]
    _append(path, job=context.id, event="start")
    time.sleep(float(context.configuration.get("seconds", 0)))
    # Last, so that no row lock is held while the handler sleeps (a paused worker would hold it).
    context.session.execute(update(job_table).where(job_table.c.id == context.configuration["marker"])
                            .values(priority=job_table.c.priority + 1))
    _append(path, job=context.id, event="end")


def read_records(path):
    if not os.path.exists(path):
        return []
    with open(path) as log:
        return [json.loads(line) for line in log if line.strip()]


def _slow_down(delays):
    """Wrap registered handlers so that they sleep first (test workers only)."""
    for handler_type, seconds in delays.items():
        original = handlers._ALL_HANDLERS[handler_type]

        def slowed(context, original=original, seconds=float(seconds)):
            time.sleep(seconds)
            return original(context)

        handlers._ALL_HANDLERS[handler_type] = slowed


_slow_down(json.loads(os.environ.get("E2E_SLOW_HANDLERS") or "{}"))
