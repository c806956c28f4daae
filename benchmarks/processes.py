"""The service's processes, started from the Procfile's lines (benchmarks.procfile).

Each process runs ``sh -c`` on its line with ``APP_ENV=production``, ``DATABASE_URL``,
``REDIS_URL``, ``PORT`` and a ``JOB_QUEUE`` unique to the start, with the venv's commands first
on PATH (as ``make run-web`` does), in a process group of its own: the service process with its
children (gunicorn's workers, Celery's pool). A group is stopped with SIGTERM, then SIGKILL
after a grace period, or killed at once (:meth:`Stack.kill_worker`, the recovery scenarios).
Every process started is stopped by :func:`stop_all`, which ``benchmarks.run`` calls in
``finally`` and at exit.
"""

import atexit
import os
import signal
import socket
import subprocess
import threading
import uuid

import redis

from benchmarks import procfile
from benchmarks.client import ADMIN, REST, HttpClient
from benchmarks.common import ROOT, BenchError, wait_until
from benchmarks.memory import tree_pids

VENV_BIN = ROOT / ".venv" / "bin"
WORKER_COUNT = 2  # the Procfile's worker line, run twice: two dynos

# AUTH_ENABLED of every process started; ``benchmarks.run --no-authentication`` turns it off, to
# measure what authentication costs (the credentials are still sent, and ignored).
_AUTHENTICATION = {"enabled": True}

_LIVE = []  # every ManagedProcess not yet stopped
_LIVE_LOCK = threading.Lock()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def set_authentication(enabled):
    _AUTHENTICATION["enabled"] = bool(enabled)


def service_env(database_url, redis_url, extra=None):
    """The environment of a Procfile process: production mode on the benchmark's servers, with
    authentication on (the production default) and the administrator the release line creates
    (``flask users bootstrap``) and every request of the harness logs in as (benchmarks.client)."""
    env = dict(os.environ)
    env.update({"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "APP_ENV": "production",
                "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                "AUTH_ENABLED": "true" if _AUTHENTICATION["enabled"] else "false",
                "JOBSERVICE_ADMIN_USER": ADMIN[0], "JOBSERVICE_ADMIN_PASSWORD": ADMIN[1]})
    env.update(extra or {})
    return env


def run_release(database_url, redis_url, log_path):
    """The Procfile's ``release`` line (the migrations, then the administrator), to completion."""
    with open(log_path, "w") as log:
        result = subprocess.run(["sh", "-c", procfile.release_command()], cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, env=service_env(database_url, redis_url), timeout=600)
    if result.returncode:
        raise BenchError(f"the Procfile release line failed ({result.returncode}); log {log_path}")


class ManagedProcess:
    """One Procfile process in its own process group, output to a log file."""

    def __init__(self, name, command, env, log_path):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.popen = subprocess.Popen(["sh", "-c", command], cwd=ROOT, env=env, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        with _LIVE_LOCK:
            _LIVE.append(self)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def check_alive(self):
        if not self.alive():
            tail = "\n".join(self.log_text().splitlines()[-30:])
            raise BenchError(f"{self.name} exited with {self.popen.returncode}; log {self.log_path}:\n{tail}")

    def signal_group(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace=20.0):
        """SIGTERM the group (warm shutdown), SIGKILL what is left after ``grace`` seconds."""
        try:
            if self.alive():
                self.signal_group(signal.SIGTERM)
                try:
                    self.popen.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            # Children (pool processes) may outlive their parent by a moment: kill the group.
            self.signal_group(signal.SIGKILL)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        finally:
            self._log.close()
            with _LIVE_LOCK:
                if self in _LIVE:
                    _LIVE.remove(self)


def stop_all():
    """Stop every process this harness started and has not stopped yet."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for process in reversed(live):
        try:
            process.stop(grace=10.0)
        except Exception as exc:  # noqa: BLE001 - keep stopping the others
            print(f"warning: could not stop {process.name} (pid {process.pid}): {exc}")


atexit.register(stop_all)


class Stack:
    """The web process and the worker processes of one start (one configuration, one queue)."""

    def __init__(self, database_url, redis_url, work_dir, label, extra_env=None, workers=WORKER_COUNT):
        self.redis_url = redis_url
        self.work_dir = work_dir
        self.label = label
        self.worker_count = workers
        self.tag = uuid.uuid4().hex[:8]
        self.queue = f"bench-{self.tag}"
        self.port = free_port()
        self.env = service_env(database_url, redis_url, extra_env)
        self.env.update({"PORT": str(self.port), "JOB_QUEUE": self.queue})
        self.web = None
        self.workers = []
        self._started_workers = 0

    def start(self, web=True, workers=True):
        """Start what is missing (workers in parallel) and return once every process is ready."""
        try:
            new_web = web and self.web is None
            if new_web:
                self.web = ManagedProcess("web", procfile.web_command(), self.env,
                                          self.work_dir / f"web-{self.tag}.log")
            spawned = [self._spawn_worker() for _ in range(self.worker_count - len(self.workers))] if workers else []
            if new_web:
                self._wait_web()
            for worker in spawned:
                self._wait_worker(worker)
        except BaseException:
            self.stop()
            raise
        return self

    def start_worker(self):
        """One more worker process; returns once Celery says it is ready."""
        return self._wait_worker(self._spawn_worker())

    def _spawn_worker(self):
        self._started_workers += 1
        name = f"worker{self._started_workers}"
        worker = ManagedProcess(name, procfile.worker_command(f"bench{self._started_workers}-{self.tag}"),
                                self.env, self.work_dir / f"{name}-{self.tag}.log")
        self.workers.append(worker)
        return worker

    def _wait_worker(self, worker):
        def ready():
            worker.check_alive()
            return " ready." in worker.log_text()

        wait_until(ready, timeout=120, interval=0.2, what=f"{worker.name} to be ready")
        return worker

    def _wait_web(self):
        client = HttpClient(self.port, timeout=10)

        def ready():
            self.web.check_alive()
            try:
                return client.request("GET", f"{REST}/job/count", retry=False).status == 200
            except OSError:
                return False

        try:
            wait_until(ready, timeout=120, interval=0.2, what="gunicorn to answer")
        finally:
            client.close()

    def kill_worker(self, worker):
        """SIGKILL every process of ``worker`` at once, as a crashed dyno would vanish."""
        worker.signal_group(signal.SIGKILL)
        worker.stop(grace=0)
        self.workers.remove(worker)

    def stop_workers(self):
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def stop(self):
        try:
            self.stop_workers()
        finally:
            if self.web is not None:
                self.web.stop()
                self.web = None
            self._forget_queue()

    def _forget_queue(self):
        """Remove this start's queue from Redis (nothing of another start is touched)."""
        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=3)
            client.delete(self.queue, f"_kombu.binding.{self.queue}")
            client.close()
        except Exception as exc:  # noqa: BLE001 - cleanup only
            print(f"warning: could not remove Redis queue {self.queue}: {exc}")

    def trees(self):
        """{name: root pid} of the live process trees."""
        roots = {"web": self.web.pid} if self.web is not None and self.web.alive() else {}
        roots.update({worker.name: worker.pid for worker in self.workers if worker.alive()})
        return roots

    def web_processes(self):
        """gunicorn's worker processes, counted in /proc."""
        return len(tree_pids(self.web.pid)) - 1 if self.web is not None and self.web.alive() else 0

    def check_alive(self):
        for process in ([self.web] if self.web is not None else []) + self.workers:
            process.check_alive()

    def commands_as_run(self):
        """{process type: its command line as the shell expands it in this start's environment}."""
        return {"web": procfile.as_run(procfile.web_command(), self.env),
                "worker": procfile.as_run(procfile.worker_command(f"benchK-{self.tag}"), self.env)}
