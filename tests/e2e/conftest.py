"""End-to-end fixtures: real Celery worker processes, a real broker, the test database.

The broker is Redis when ``TEST_REDIS_URL`` is set (``.ci/run`` sets it and checks Redis is up;
an unreachable Redis fails the tests, it never skips them), else the embedded filesystem
broker. Every test session uses its own queue name, so stale messages of an earlier run are
never consumed.

The web side runs with authentication ON, as in production: an administrator is created before
each test (``e2e_admin``), the test client sends its credentials on every request, and the
HTTP clients of the tests are configured with them.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import ensure_client_admin, is_postgres

ROOT = Path(__file__).resolve().parents[2]
SESSION_QUEUE = f"e2e-{uuid.uuid4().hex[:8]}"


def wait_for(predicate, timeout=30.0, interval=0.05, message="condition"):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def broker_url():
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            pytest.fail(f"TEST_REDIS_URL={url} is set but Redis does not answer: {error}")
        return url
    return "filesystem://localhost/"


@pytest.fixture(scope="session")
def broker_folder(tmp_path_factory):
    """The filesystem broker's folder, removed at the end of the session together with the
    ``-control`` sibling kombu creates next to it (app.dispatch), so no run leaves them behind."""
    folder = tmp_path_factory.mktemp("e2e-broker")
    yield str(folder)
    for path in (folder, folder.with_name(f"{folder.name}-control")):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def e2e_settings(app, broker_url, broker_folder):
    """Settings the test process and its workers share."""
    return {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "BROKER_URL": broker_url,
        "BROKER_FOLDER": broker_folder,
        "JOB_QUEUE": SESSION_QUEUE,
        "JOB_SWEEP_INTERVAL_SECONDS": 0.5,
        "JOB_LOCK_TIME_SECONDS": 4.0,
        "BATCH_POLL_TIME_SECONDS": 30.0,
    }


@pytest.fixture(scope="session")
def e2e_app(app, e2e_settings):
    """A second app on the same database whose dispatcher really sends to the broker, with
    authentication on."""
    return create_app("test", overrides={**e2e_settings, "AUTH_ENABLED": True})


@pytest.fixture
def e2e_admin(e2e_app):
    """``(user, password)`` of an administrator of the e2e app, created for each test."""
    return ensure_client_admin(e2e_app)


@pytest.fixture
def e2e_client(e2e_app, e2e_admin):
    """The e2e app's test client, sending the administrator's credentials on every request."""
    client = e2e_app.test_client()
    token = base64.b64encode(":".join(e2e_admin).encode()).decode()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Basic {token}"
    return client


class Worker:
    def __init__(self, process, log_path):
        self.process = process
        self.log_path = log_path

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def pids(self):
        """The worker's live processes: its main process and pool children (one process group)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid and fields[0] != "Z":  # pgrp; not a zombie
                pids.append(int(entry.name))
        return pids

    def kill(self, sig=signal.SIGKILL):
        """Signal the worker's whole process group (main process and pool children)."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        self.kill(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.process.wait(timeout=10)


# Settings whose environment variable has another name (see start_worker).
_MAPPED_SETTINGS = {"SQLALCHEMY_DATABASE_URI", "BROKER_URL", "JOB_QUEUE", "JOB_SWEEP_INTERVAL_SECONDS",
                    "JOB_LOCK_TIME_SECONDS", "BATCH_POLL_TIME_SECONDS", "BROKER_FOLDER"}


@pytest.fixture
def start_worker(app, e2e_settings, tmp_path):
    """Start a real ``celery -A workers.celery_app worker`` process; stopped after the test."""
    workers = []

    def start(concurrency=None, **settings):
        if concurrency is None:
            concurrency = 2 if is_postgres(app) else 1  # SQLite: one writer
        merged = {**e2e_settings, **settings}
        env = dict(os.environ)
        env.update({
            "APP_ENV": "test",
            "TEST_DATABASE_URL": merged["SQLALCHEMY_DATABASE_URI"],
            "TEST_REDIS_URL": merged["BROKER_URL"],
            "JOB_QUEUE": merged["JOB_QUEUE"],
            "JOB_SWEEP_INTERVAL_SECONDS": str(merged["JOB_SWEEP_INTERVAL_SECONDS"]),
            "JOB_LOCK_TIME_SECONDS": str(merged["JOB_LOCK_TIME_SECONDS"]),
            "BATCH_POLL_TIME": str(merged["BATCH_POLL_TIME_SECONDS"]),
            "JOB_HANDLER_MODULES": "tests.e2e.handlers",
            "BROKER_FOLDER": merged["BROKER_FOLDER"],
            "PYTHONPATH": str(ROOT),
        })
        # Any other setting (JOB_DEAD_WORKER_SECONDS, INVOCATIONS_PER_BATCH_JOB, ...) is passed
        # under its own name; the config classes read them all from the environment.
        for key, value in settings.items():
            if key not in _MAPPED_SETTINGS:
                env[key] = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) \
                    else str(value)
        log_path = tmp_path / f"worker-{len(workers)}.log"
        name = f"e2e{len(workers)}-{uuid.uuid4().hex[:6]}@%h"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-n", name,
             "-Q", merged["JOB_QUEUE"], f"--concurrency={concurrency}", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = Worker(process, log_path)
        workers.append(worker)

        def ready():
            if process.poll() is not None:
                raise AssertionError(f"worker exited with {process.returncode}:\n{worker.log()}")
            return "ready." in worker.log()

        wait_for(ready, timeout=60, message="the Celery worker to be ready")
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def db_session(e2e_app):
    """Direct database access for assertions (and the odd setup step no API offers)."""
    with e2e_app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture
def e2e_server(e2e_app):
    """The e2e app served over real HTTP on a free loopback port; yields the REST base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, e2e_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{e2e_app.config['REST_BASE_PATH']}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def batch_settings(e2e_app):
    """Temporarily change the batch settings the creating (web) side uses."""
    saved = dict(e2e_app.config)

    def apply(**settings):
        e2e_app.config.update(settings)

    yield apply
    for key in ("INVOCATIONS_PER_BATCH_JOB", "BATCH_JOBS_PER_SEED", "INVOCATIONS_PER_BATCH_JOB_BY_TYPE"):
        e2e_app.config[key] = saved[key]
