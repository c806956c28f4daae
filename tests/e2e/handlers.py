"""Handlers the end-to-end workers load (JOB_HANDLER_MODULES=tests.e2e.handlers).

``test.record`` appends a start and an end line to the file named in its configuration, so the
test process can see which worker process ran which job, in which order and how often.
"""

import json
import os
import time

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


def read_records(path):
    if not os.path.exists(path):
        return []
    with open(path) as log:
        return [json.loads(line) for line in log if line.strip()]
