"""gunicorn settings module (``gunicorn -c python:config.gunicorn``, the Procfile's web line).

Metrics in multiprocess mode (README "Metrics", spec A22): each gunicorn worker process counts
its own requests, and a scrape lands on any one of them, so every process writes its values to
files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` serves their sum. The directory must be
set before a worker imports prometheus_client, i.e. in this master process before it forks:
when it is unset, a fresh private directory is made here (and removed at exit). A directory
given in the environment is used as it is; it must be empty at start (the embedded mode makes
a fresh one for its web and worker processes; a shared one outlives nothing).

This module must not import prometheus_client itself: the master would then fix the
single-process mode for every worker it forks.
"""

import os
import shutil
import tempfile

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_created = []


def on_starting(server):
    if os.environ.get(VARIABLE):
        os.makedirs(os.environ[VARIABLE], exist_ok=True)
        return
    directory = tempfile.mkdtemp(prefix="jobservice-metrics-")
    os.environ[VARIABLE] = directory
    _created.append(directory)
    server.log.info("metrics of the web processes are summed in %s", directory)


def on_exit(server):
    for directory in _created:
        shutil.rmtree(directory, ignore_errors=True)
