"""The embedded mode end to end: ``python -m app.embedded`` (what ``make run`` starts).

A real supervisor process with a real Celery worker and a real gunicorn on a free port, on a
SQLite file and the filesystem broker in a temporary INSTANCE_DIR. The test's own database and
broker settings are not passed on: the embedded mode must work with nothing but Python.
Authentication is on (``AUTH_ENABLED=true``, the administrator from ``JOBSERVICE_ADMIN_USER`` /
``JOBSERVICE_ADMIN_PASSWORD``), and every request sends its credentials.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.embedded import DEMO_JOB_COUNT

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 120  # migrations, 500 demo jobs, gunicorn and Celery start-up
EXECUTION_TIMEOUT = 30
STOP_TIMEOUT = 45
ADMIN = ("embeddedadmin", "embedded-secret")

pytestmark = pytest.mark.e2e


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(predicate, timeout, message, process=None, log_path=None):
    """Call ``predicate`` until it returns something truthy; fail at the deadline or if
    ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"app.embedded exited with {process.returncode} while waiting for {message}:\n"
                                 f"{read(log_path)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}:\n{read(log_path)}")
        time.sleep(0.1)


def read(log_path):
    if log_path is None or not Path(log_path).exists():
        return ""
    text = Path(log_path).read_text(errors="replace")
    return text[-8000:]


def get(url, **kwargs):
    """GET that answers None while the server is not ready yet: not listening, or listening
    (gunicorn's master accepts at once) while its worker process is still booting, which on a
    loaded machine takes longer than one request's timeout. The caller's deadline still holds."""
    try:
        return requests.get(url, timeout=5, auth=ADMIN, **kwargs)
    except (requests.ConnectionError, requests.Timeout):
        return None


def child_pids(log_path):
    """The pids the supervisor announced: ``started the worker (pid N)`` and the web server."""
    text = Path(log_path).read_text(errors="replace")
    return {name: int(pid) for name, pid in re.findall(r"started the (worker|web server)\b.*?\(pid (\d+)\)", text)}


def live_pids_in_group(pgid):
    """Processes of process group ``pgid`` that still run (zombies excluded), read from /proc."""
    live = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ")".
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(entry.name))
    return live


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads process groups from /proc")
def test_embedded_mode_serves_the_api_runs_jobs_and_stops_cleanly(tmp_path):
    port = free_port()
    instance_dir = tmp_path / "instance"
    log_path = tmp_path / "embedded.log"
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL",
                          "APP_ENV", "JOB_QUEUE", "JOB_HANDLER_MODULES", "BROKER_FOLDER")}
    env.update({
        "INSTANCE_DIR": str(instance_dir),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DEMO_DATA_ON_FIRST_START": "true",
        "PYTHONUNBUFFERED": "1",
        "AUTH_ENABLED": "true",
        "JOBSERVICE_ADMIN_USER": ADMIN[0],
        "JOBSERVICE_ADMIN_PASSWORD": ADMIN[1],
    })
    base = f"http://127.0.0.1:{port}/engine-rest"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.embedded"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    children = {}
    try:
        count = poll(lambda: (r := get(f"{base}/job/count")) is not None and r.status_code == 200 and r.json(),
                     STARTUP_TIMEOUT, "GET /engine-rest/job/count to answer", process, log_path)
        assert count == {"count": DEMO_JOB_COUNT}, "the demo data was not created on the first start"
        poll(lambda: "jobservice is running: " in read(log_path), 10, "the ready banner", process, log_path)
        assert f"jobservice is running: {base}" in read(log_path)
        # The banner links the operator console, and the web server serves it.
        assert f"console:  http://localhost:{port}/console/" in read(log_path)
        console = requests.get(f"http://127.0.0.1:{port}/console/", timeout=10)
        assert console.status_code == 200 and "jobservice console" in console.text, console.text[:200]
        children = child_pids(log_path)
        assert set(children) == {"worker", "web server"}, read(log_path)

        assert requests.get(f"{base}/job/count", timeout=10).status_code == 401
        assert requests.get(f"{base}/job/count", timeout=10, auth=(ADMIN[0], "wrong")).status_code == 401
        failed = requests.post(f"{base}/job", json={"noRetriesLeft": True}, timeout=30, auth=ADMIN)
        assert failed.status_code == 200, failed.text
        failed_jobs = failed.json()
        assert failed_jobs, "the demo data has no failed jobs"
        assert {job["retries"] for job in failed_jobs} == {0}
        assert all(job["exceptionMessage"] for job in failed_jobs)

        created = requests.post(f"http://127.0.0.1:{port}/api/jobs", json=[{"handlerType": "demo.noop"}], timeout=30,
                                auth=ADMIN)
        assert created.status_code == 201, created.text
        job_id = created.json()[0]["id"]
        # Executed by the real worker: a successful job is deleted.
        poll(lambda: (r := get(f"{base}/job/{job_id}")) is not None and r.status_code == 404,
             EXECUTION_TIMEOUT, f"job {job_id} to be executed by the worker", process, log_path)
        assert requests.get(f"{base}/job/count", timeout=10, auth=ADMIN).json() == {"count": DEMO_JOB_COUNT}

        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"app.embedded did not stop within {STOP_TIMEOUT}s:\n{read(log_path)}") from None
        assert code == 0, read(log_path)
        # Each child leads its own process group; the supervisor's group is the test's session.
        for name, pid in children.items():
            assert not live_pids_in_group(pid), f"the {name} (pid {pid}) or its processes outlived SIGTERM"
        assert not live_pids_in_group(process.pid), "processes of app.embedded outlived it"
        text = read(log_path)
        assert "the worker exited with code 0" in text
        assert re.search(r"the web server \(\w+\) exited with code 0", text), text
        assert "No hostname was supplied" not in text
        assert (instance_dir / "jobservice.sqlite").exists()
        # The filesystem broker keeps its messages and exchange tables in INSTANCE_DIR.
        assert (instance_dir / "broker").is_dir() and (instance_dir / "broker-control").is_dir()
    finally:
        if process.poll() is None:
            kill_group(process.pid)
            process.wait(timeout=10)
        for pid in (children or child_pids(log_path)).values():
            kill_group(pid)
