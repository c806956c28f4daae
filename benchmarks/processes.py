"""The service's processes, started exactly as the Procfile runs them, and their memory.

``web`` is gunicorn and ``worker`` is a Celery worker, each the Procfile line run by ``sh -c``
with ``APP_ENV=production``, ``DATABASE_URL``, ``REDIS_URL``, ``PORT`` and a ``JOB_QUEUE`` unique
to this start, with the venv's commands first on PATH (as ``make run-web`` does). Two changes,
both printed in the report: the web binds 127.0.0.1 instead of 0.0.0.0 (no traffic leaves the
machine), and each worker gets its own node name (``-n``), as separate dynos would have
separate host names. ``exec`` replaces the shell, so each process group is one service process
with its children (gunicorn's workers, Celery's pool), and is stopped as a group: SIGTERM, then
SIGKILL after a grace period. Every process started is stopped by :func:`stop_all`, which
``benchmarks.run`` calls in ``finally`` and at exit.

:class:`MemorySampler` reads the RSS of every process of each tree, and the tree's PSS, from
/proc every 0.2 s.
"""

import atexit
import os
import re
import signal
import socket
import subprocess
import threading
import uuid
from contextlib import contextmanager

from benchmarks.util import ROOT, BenchError, HttpClient, wait_until

PROCFILE = ROOT / "Procfile"
VENV_BIN = ROOT / ".venv" / "bin"
WORKER_COUNT = 2
_ASSIGNMENTS = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(.+)$")
_DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}")

_LIVE = []  # every ManagedProcess not yet stopped
_LIVE_LOCK = threading.Lock()


def procfile_command(name):
    for line in PROCFILE.read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise BenchError(f"the Procfile has no '{name}:' line")


def procfile_defaults():
    """``${VAR:-default}`` of every Procfile line: {VAR: default}."""
    return dict(_DEFAULT.findall(PROCFILE.read_text()))


def procfile_setting(name, env=None):
    """The value a Procfile ``${NAME:-default}`` takes in ``env`` (os.environ by default)."""
    env = os.environ if env is None else env
    value = env.get(name)
    return value if value else procfile_defaults().get(name)


def _exec_form(command):
    """``A=1 B=2 cmd args`` -> ``A=1 B=2 exec cmd args``: the shell becomes the process."""
    match = _ASSIGNMENTS.match(command)
    return f"{match.group(1)}exec {match.group(2)}"


def web_command():
    command = procfile_command("web")
    if "0.0.0.0" not in command:
        raise BenchError("the Procfile web line binds no 0.0.0.0 address; cannot move it to 127.0.0.1")
    return _exec_form(command.replace("0.0.0.0", "127.0.0.1"))


def worker_command(node_name):
    return _exec_form(procfile_command("worker") + f" -n {node_name}@%h")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManagedProcess:
    """One Procfile process in its own process group, output to a log file."""

    def __init__(self, name, command, env, log_path):
        self.name = name
        self.command = command
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

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self):
        if not self.alive():
            raise BenchError(f"{self.name} exited with {self.popen.returncode}; log {self.log_path}:\n"
                             f"{self.log_tail()}")

    def _signal_group(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace=20.0):
        """SIGTERM the group (warm shutdown), SIGKILL what is left after ``grace`` seconds."""
        try:
            if self.alive():
                self._signal_group(signal.SIGTERM)
                try:
                    self.popen.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            # Children (pool processes) may outlive their parent by a moment: kill the group.
            self._signal_group(signal.SIGKILL)
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
    """The web process and the worker processes of one configuration."""

    def __init__(self, database_url, redis_url, work_dir, label, extra_env=None, workers=WORKER_COUNT):
        self.database_url = database_url
        self.redis_url = redis_url
        self.work_dir = work_dir
        self.label = label
        self.worker_count = workers
        self.tag = uuid.uuid4().hex[:8]
        self.queue = f"bench-{self.tag}"
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PORT": str(self.port),
            "JOB_QUEUE": self.queue,
        })
        self.env.update(extra_env or {})
        self.web = None
        self.workers = []

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, web=True, workers=True):
        try:
            if web and self.web is None:
                self.web = ManagedProcess("web", web_command(), self.env, self.work_dir / f"web-{self.tag}.log")
            if workers:
                for index in range(len(self.workers), self.worker_count):
                    name = f"bench{index + 1}-{self.tag}"
                    self.workers.append(ManagedProcess(f"worker{index + 1}", worker_command(name), self.env,
                                                       self.work_dir / f"worker{index + 1}-{self.tag}.log"))
            if web:
                self._wait_web()
            if workers:
                for worker in self.workers:
                    self._wait_worker(worker)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_web(self):
        client = HttpClient(self.port, timeout=10)

        def ready():
            self.web.check_alive()
            try:
                return client.request("GET", "/engine-rest/job/count", retry=False).status == 200
            except OSError:
                return False

        try:
            wait_until(ready, timeout=120, interval=0.2, what="gunicorn to answer")
        finally:
            client.close()

    def _wait_worker(self, worker):
        def ready():
            worker.check_alive()
            try:
                return " ready." in worker.log_path.read_text(errors="replace")
            except OSError:
                return False

        wait_until(ready, timeout=120, interval=0.2, what=f"{worker.name} to be ready")

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
            import redis

            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=3)
            client.delete(self.queue, f"_kombu.binding.{self.queue}")
            client.close()
        except Exception as exc:  # noqa: BLE001 - cleanup only
            print(f"warning: could not remove Redis queue {self.queue}: {exc}")

    def trees(self):
        """{name: root pid} of the live process trees."""
        roots = {}
        if self.web is not None and self.web.alive():
            roots["web"] = self.web.pid
        for worker in self.workers:
            if worker.alive():
                roots[worker.name] = worker.pid
        return roots

    def check_alive(self):
        if self.web is not None:
            self.web.check_alive()
        for worker in self.workers:
            worker.check_alive()

    def send_acquire_hint(self):
        """What the web does after a commit that made work visible: one ``executor.acquire``."""
        from celery import Celery

        celery = Celery("jobservice-bench", broker=self.redis_url)
        try:
            celery.send_task("executor.acquire", args=[], queue=self.queue, expires=60, retry=False)
        finally:
            celery.close()


# --- memory ---------------------------------------------------------------------------------

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _parents():
    """{pid: ppid} of every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
    return parents


def _tree(root, parents):
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo and len(tree) < 1000:
        pid = todo.pop()
        if pid in parents or pid == root:
            tree.append(pid)
            todo.extend(children.get(pid, ()))
    return tree


def tree_pids(root):
    """The pids of the process tree under ``root`` (root first)."""
    return _tree(root, _parents())


def _rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class Window:
    """Peaks of one measurement window, per process tree.

    ``max_process_rss`` is the largest RSS any single process of the tree reached (the figure
    the 250 MB target is about: the main process and each pool child counted on its own);
    ``rss`` sums RSS over the tree, which counts pages shared after fork once per process, so
    ``pss`` (proportional set size: each shared page split among its sharers) is the tree's
    real footprint. ``root_rss`` and ``child_rss`` split the largest process into the tree's
    root (gunicorn arbiter, Celery main process) and its children (gunicorn workers, pool
    processes)."""

    FIELDS = ("rss", "pss", "max_process_rss", "root_rss", "child_rss", "processes")

    def __init__(self):
        self.peaks = {}  # name -> {field: bytes (processes: a count)}
        self.samples = 0

    def update(self, name, values):
        peak = self.peaks.setdefault(name, dict.fromkeys(self.FIELDS, 0))
        for field in self.FIELDS:
            peak[field] = max(peak[field], values[field])


class MemorySampler:
    """Samples the RSS of each process and the PSS of the named process trees every 0.2 s."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self._roots = {}
        self._windows = []
        self._lock = threading.Lock()
        self._sample_lock = threading.Lock()  # one sample at a time (thread and window edges)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory-sampler", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def track(self, roots):
        with self._lock:
            self._roots = dict(roots)

    def sample_once(self):
        with self._sample_lock:
            self._sample()

    def _sample(self):
        with self._lock:
            roots = dict(self._roots)
            windows = list(self._windows)
        if not roots or not windows:
            return
        parents = _parents()
        for name, root in roots.items():
            pids = _tree(root, parents)
            rss = {pid: _rss_bytes(pid) for pid in pids}
            values = {
                "rss": sum(rss.values()),
                "pss": sum(_pss_bytes(pid) for pid in pids),
                "max_process_rss": max(rss.values(), default=0),
                "root_rss": rss.get(root, 0),
                "child_rss": max((size for pid, size in rss.items() if pid != root), default=0),
                "processes": len(pids),
            }
            for window in windows:
                window.update(name, values)
        for window in windows:
            window.samples += 1

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.sample_once()
            except Exception as exc:  # noqa: BLE001 - a vanished process must not stop sampling
                print(f"warning: memory sample failed: {exc}")

    @contextmanager
    def window(self):
        window = Window()
        with self._lock:
            self._windows.append(window)
        try:
            self.sample_once()
            yield window
        finally:
            self.sample_once()
            with self._lock:
                self._windows.remove(window)
