"""The embedded mode: ``python -m app.embedded`` (what ``make run`` starts).

Everything on one machine with nothing but Python: ``APP_ENV=development`` (a SQLite file and a
filesystem Celery broker under ``INSTANCE_DIR``, ``instance/`` by default). It

1. runs the Alembic migrations,
2. creates demo jobs on the first start (a database that had no schema and has no jobs yet;
   ``DEMO_DATA_ON_FIRST_START=false`` turns that off, ``make demo`` adds more later),
3. starts a real Celery worker process (one pool child: SQLite takes one writer at a time) and
   the web server (gunicorn with one process of two threads; werkzeug where gunicorn cannot run),
   listening on 127.0.0.1 only (``HOST`` changes that), which is why authentication may be off
   here (``AUTH_ENABLED=true`` turns it on; the banner says which; with it on, the administrator
   comes from ``JOBSERVICE_ADMIN_USER`` / ``JOBSERVICE_ADMIN_PASSWORD`` or ``flask users create``),
4. prints the URL once the API answers, and supervises both: Ctrl-C or SIGTERM stops both
   cleanly (exit 0); if either dies, the other is stopped and this process exits 1.

Each child runs in its own process group, so a Ctrl-C reaches only this supervisor, which then
sends each child a single SIGTERM (gunicorn and Celery both shut down gracefully on it). On
Linux the children also get SIGTERM if the supervisor is killed outright.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

APP_ENV = "development"
DEMO_JOB_COUNT = 500
READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30
POLL_SECONDS = 0.2
WEB_THREADS = 2
EXIT_CHILD_DIED = 1
EXIT_STARTUP_FAILED = 2

# The children inherit this; the supervisor itself asks for the development config by name.
os.environ["APP_ENV"] = APP_ENV


def say(message):
    print(f"jobservice: {message}", flush=True)


def prepare_database(flask_app):
    """Migrate; create or update the administrator from the environment when it is set; on the
    first start, fill the empty job table with demo jobs. Returns how many."""
    import flask_migrate
    from sqlalchemy import func, inspect, select

    from app.core.errors import ApiError
    from app.extensions import db
    from app.models import Job
    from app.services.demo import create_demo_jobs
    from app.services.identity.bootstrap import (
        ADMIN_PASSWORD_VARIABLE,
        ADMIN_USER_VARIABLE,
        bootstrap_administrator,
        require_administrator,
    )
    from config import ConfigurationError

    with flask_app.app_context():
        first_start = not inspect(db.engine).has_table("alembic_version")
        flask_migrate.upgrade()
        admin_user, admin_password = os.environ.get(ADMIN_USER_VARIABLE), os.environ.get(ADMIN_PASSWORD_VARIABLE)
        if admin_user and admin_password:
            try:
                say(f"administrator {admin_user}: {bootstrap_administrator(admin_user, admin_password)}")
            except ApiError as error:
                raise ConfigurationError(f"{ADMIN_USER_VARIABLE}/{ADMIN_PASSWORD_VARIABLE}: {error.message}") from None
        require_administrator()  # the processes below would refuse to start otherwise
        created = 0
        if flask_app.config["DEMO_DATA_ON_FIRST_START"] and first_start:
            if db.session.scalar(select(func.count()).select_from(Job)) == 0:
                say(f"first start: creating {DEMO_JOB_COUNT} demo jobs (DEMO_DATA_ON_FIRST_START=false turns this off)")
                created = create_demo_jobs(DEMO_JOB_COUNT)
        db.session.remove()
        db.engine.dispose()
    return created


def fresh_metrics_dir(instance_dir):
    """The web and the worker write their metrics to one directory, so that the web's
    ``/metrics`` sums both (spec A22); emptied at each start (counters start at zero with the
    processes). ``PROMETHEUS_MULTIPROC_DIR`` from the environment is used as it is."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        return given
    directory = instance_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return str(directory)


def worker_command(config):
    command = [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        f"--loglevel={config['LOG_LEVEL']}",
        "--concurrency=1",
        "-Q", config["JOB_QUEUE"],
        "--hostname", "jobservice-embedded@%h",
        # One worker on a file broker: nobody to gossip or synchronise with, and the event
        # heartbeats would only write files for every queue ever bound to the event exchange.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    if os.name != "posix":
        command.append("--pool=solo")  # prefork needs fork()
    return command


def web_command(host, port):
    if os.name == "posix" and importlib.util.find_spec("gunicorn") is not None:
        return "gunicorn", [
            sys.executable, "-m", "gunicorn",
            "-b", f"{host}:{port}",
            "--workers", "1", "--threads", str(WEB_THREADS),
            "--graceful-timeout", "10",
            "-c", "python:config.gunicorn",
            "app:create_app(serving=True)",
        ]
    return "werkzeug", [
        sys.executable, "-m", "flask", "--app", "app:create_app(serving=True)", "run",
        "--host", host, "--port", str(port), "--with-threads", "--no-reload", "--no-debugger",
    ]


def _die_with_parent(parent_pid):
    """Run in the child before exec: ask Linux for SIGTERM when the supervisor dies."""

    def preexec():
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
        except Exception:  # noqa: BLE001 - best effort; the supervisor normally stops us itself
            return
        if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec if sys.platform.startswith("linux") else None


class Supervisor:
    """Starts the children, watches them, stops them."""

    def __init__(self, env, cwd):
        self.env = env
        self.cwd = cwd
        self.children = {}  # name -> Popen
        self.signals_received = 0
        self.last_signal = None
        self.stop_requested = threading.Event()

    # --- signals ---

    def install_signal_handlers(self):
        for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is not None:
                signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame):
        # No printing here: a signal landing inside print() would make it re-entrant.
        self.signals_received += 1
        self.last_signal = signal.Signals(signum).name
        self.stop_requested.set()

    # --- children ---

    def start(self, name, command):
        kwargs = {}
        if os.name == "posix":
            kwargs = {"process_group": 0, "preexec_fn": _die_with_parent(os.getpid())}
        process = subprocess.Popen(command, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, **kwargs)
        self.children[name] = process
        say(f"started the {name} (pid {process.pid}): python {' '.join(command[1:])}")
        return process

    def dead_child(self):
        """``(name, exit code)`` of a child that has exited, or None."""
        for name, process in self.children.items():
            code = process.poll()
            if code is not None:
                return name, code
        return None

    def stop_all(self):
        if self.last_signal:
            say(f"received {self.last_signal}, stopping (send it again to force)")
        alive = {name: p for name, p in self.children.items() if p.poll() is None}
        for name, process in alive.items():
            say(f"stopping the {name} (pid {process.pid})")
            self._terminate(process)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        forced = False
        while any(p.poll() is None for p in alive.values()):
            if not forced and (time.monotonic() > deadline or self.signals_received >= 2):
                for name, process in alive.items():
                    if process.poll() is None:
                        say(f"the {name} (pid {process.pid}) did not stop in time: killing it")
                        self._kill(process)
                forced = True
            time.sleep(POLL_SECONDS)
        for name, process in self.children.items():
            say(f"the {name} exited with code {process.returncode}")

    @staticmethod
    def _terminate(process):
        try:
            process.send_signal(signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def _kill(process):
        """Kill the child with its pool children and gunicorn workers (it leads its own group)."""
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except (ProcessLookupError, PermissionError):
            pass


def auth_line(config, host):
    """The banner's word on authentication: on, or off and who can therefore reach the API."""
    if config["AUTH_ENABLED"]:
        return "on (HTTP Basic; flask --app app users create <id> --admin adds a user)"
    if host in ("127.0.0.1", "localhost", "::1"):
        return "OFF: anyone on this machine can use the API (AUTH_ENABLED=true turns it on)"
    return f"OFF and listening on {host}: anyone who can reach it can use the API (AUTH_ENABLED=true turns it on)"


def wait_until_ready(supervisor, url, timeout, auth_enabled=False):
    """Poll ``url`` until it answers (200, or 401 when authentication is on: the API is up and
    guarding itself). False if a child died or a stop was asked for first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.stop_requested.is_set() or supervisor.dead_child():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except urllib.error.HTTPError as error:
            if auth_enabled and error.code == 401:
                return True
        except (urllib.error.URLError, OSError):
            pass
        supervisor.stop_requested.wait(POLL_SECONDS)
    return False


def _redact(url):
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a database URL (a broker URL)
        return url.split("@")[-1] if "@" in url else url


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m app.embedded",
        description="Run jobservice on this machine: SQLite, a filesystem broker, one Celery worker and the "
                    "web server. Settings come from the environment (PORT, INSTANCE_DIR, LOG_LEVEL, "
                    "DEMO_DATA_ON_FIRST_START, ...).")
    parser.parse_args(argv)

    from config import ConfigurationError
    from config.settings import INSTANCE_DIR, ROOT_DIR

    try:
        from app import create_app

        flask_app = create_app(APP_ENV)
    except ConfigurationError as exc:
        say(f"configuration error: {exc}")
        return EXIT_STARTUP_FAILED
    config = flask_app.config
    instance_dir = INSTANCE_DIR.resolve()
    instance_dir.mkdir(parents=True, exist_ok=True)

    try:
        prepare_database(flask_app)
    except ConfigurationError as exc:
        say(f"configuration error: {exc}")
        return EXIT_STARTUP_FAILED

    host = os.environ.get("HOST") or "127.0.0.1"
    port = config["PORT"]
    local_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base_url = f"http://{local_host}:{port}{config['REST_BASE_PATH']}"

    env = dict(os.environ, APP_ENV=APP_ENV, INSTANCE_DIR=str(instance_dir), PORT=str(port), PYTHONUNBUFFERED="1",
               PROMETHEUS_MULTIPROC_DIR=fresh_metrics_dir(instance_dir))
    supervisor = Supervisor(env=env, cwd=str(ROOT_DIR))
    supervisor.install_signal_handlers()
    exit_code = 0
    try:
        supervisor.start("worker", worker_command(config))
        server, command = web_command(host, port)
        supervisor.start(f"web server ({server})", command)

        # The liveness check: public, and quiet at INFO (a poll every 0.2 s is not an event).
        live_url = f"http://{local_host}:{port}/health/live"
        if wait_until_ready(supervisor, live_url, READY_TIMEOUT_SECONDS, config["AUTH_ENABLED"]):
            curl_host = "localhost" if local_host == "127.0.0.1" else local_host
            broker = _redact(config["BROKER_URL"])
            if broker.startswith("filesystem://"):
                broker += f" ({config['BROKER_FOLDER']})"
            print(
                f"\njobservice is running: {base_url}\n"
                f"  database: {_redact(config['SQLALCHEMY_DATABASE_URI'])}\n"
                f"  broker:   {broker}\n"
                f"  console:  http://{curl_host}:{port}/console/"
                f"{' (log in as a user of this service)' if config['AUTH_ENABLED'] else ''}\n"
                f"  auth:     {auth_line(config, host)}\n"
                f"  health:   http://{curl_host}:{port}/health/ready, metrics: http://{curl_host}:{port}/metrics\n"
                f"  try:      curl -s {'-u USER:PASSWORD ' if config['AUTH_ENABLED'] else ''}"
                f"-X POST {curl_host}:{port}{config['REST_BASE_PATH']}/job "
                "-H 'Content-Type: application/json' -d '{\"noRetriesLeft\":true}'\n"
                f"  docs:     http://{local_host}:{port}/docs (Swagger UI; the OpenAPI document is "
                f"{config['REST_BASE_PATH']}/openapi.json)\n"
                "  Ctrl-C stops it.\n",
                flush=True,
            )
        elif not supervisor.stop_requested.is_set() and not supervisor.dead_child():
            say(f"the web server did not answer {live_url} within {READY_TIMEOUT_SECONDS} s")
            exit_code = EXIT_STARTUP_FAILED

        while exit_code == 0 and not supervisor.stop_requested.is_set():
            dead = supervisor.dead_child()
            if dead:
                say(f"the {dead[0]} exited unexpectedly with code {dead[1]}; stopping the rest")
                exit_code = EXIT_CHILD_DIED
                break
            supervisor.stop_requested.wait(POLL_SECONDS)
    finally:
        supervisor.stop_all()
    say("stopped" if exit_code == 0 else f"stopped with exit code {exit_code}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
