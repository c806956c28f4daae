"""Memory of the service's processes, read from /proc.

:class:`MemorySampler` reads the RSS of every process of each named process tree, and the
tree's PSS, every 0.2 s, into the measurement windows that are open at the time.
"""

import os
import threading
from contextlib import contextmanager

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
