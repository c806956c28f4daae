"""Where a worker's time goes, seen from outside: py-spy (if installed) attached to the pool
processes, summarised as shares of samples. (The executor runs jobs in threads of the worker
processes, not as Celery tasks, so Celery's task log lines say nothing about them.)"""

import re
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager

from benchmarks.common import ROOT
from benchmarks.memory import tree_pids
from benchmarks.processes import VENV_BIN

WAITING_FRAME = "receive (billiard/pool.py)"  # a pool process waiting for its next task
# A thread of the executor runtime waiting: for a wake-up or its next beat (threading), or the
# listener for a notification (select). Their samples are idle time, not work.
IDLE_LEAVES = ("wait (threading.py)", "wait_for_notification (app/services/executor/runtime.py)")
# Library frames worth a line of their own: time in the database driver, commits, pool checks.
PROFILE_FRAMES = ("do_execute (sqlalchemy/engine/default.py)", "do_commit (sqlalchemy/engine/default.py)",
                  "do_ping (sqlalchemy/dialects/postgresql/_psycopg_common.py)",
                  "Session.commit (sqlalchemy/orm/session.py)", "send_task (celery/app/base.py)")
OWN_CODE = re.compile(r"\((app|workers|schemas)/")


def py_spy():
    path = VENV_BIN / "py-spy"
    return str(path) if path.exists() else shutil.which("py-spy")


@contextmanager
def recording(workers, work_dir, tag):
    """``py-spy record`` on every pool process of ``workers`` while the block runs; yields the
    list of output files (filled when the block ends)."""
    pids = [pid for worker in workers for pid in tree_pids(worker.pid) if pid != worker.pid]
    recorders, paths = [], []
    for pid in pids:
        paths.append(work_dir / f"py-spy-{tag}-{pid}.txt")
        log = open(work_dir / f"py-spy-{tag}-{pid}.log", "w")
        command = [py_spy(), "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--idle",
                   "--nonblocking", "--full-filenames", "-o", str(paths[-1])]
        recorders.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))
    try:
        time.sleep(0.5)  # py-spy attaches; there is nothing to poll for
        yield paths
    finally:
        for process, _ in recorders:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process, log in recorders:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def _frame_key(frame):
    """``func (path:line)`` -> ``func (short path)``: lines merged, install prefixes cut."""
    match = re.match(r"^(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    for marker in ("site-packages/", "/lib/python3.11/", f"{ROOT}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


def _collapsed_samples(paths):
    """(frames, count) of every stack in py-spy's raw (collapsed) files."""
    for path in paths:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                yield [_frame_key(frame) for frame in stack.split(";")], int(count)


def summarise_profile(paths, top=30):
    """The share of samples spent waiting for a task, then inclusive and self shares of the
    frames of the other (working) samples."""
    inclusive, own = {}, {}
    total = waiting = 0
    for frames, count in _collapsed_samples(paths):
        total += count
        if any(frame.endswith(WAITING_FRAME) for frame in frames) or frames[-1].endswith(IDLE_LEAVES):
            waiting += count
            continue
        for key in set(frames):
            inclusive[key] = inclusive.get(key, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    working = total - waiting
    if not working:
        return f"{total} samples, none working"
    lines = [f"{total} samples at 100 Hz over all pool processes; {waiting} ({waiting / total:.0%}) waiting for a "
             f"task or a wake-up (billiard receive, the runtime threads' waits; includes the 0.5 s before the POST "
             f"and the end), {working} working.",
             "", "inclusive, % of the working samples, the service's own functions and the database calls:"]
    ranked = sorted(inclusive.items(), key=lambda item: -item[1])
    lines += [f"  {count / working:6.1%}  {key}" for key, count in ranked
              if key.endswith(PROFILE_FRAMES) or OWN_CODE.search(key)][:top]
    lines += ["", "self (leaf frames), % of the working samples:"]
    lines += [f"  {count / working:6.1%}  {key}" for key, count in sorted(own.items(), key=lambda item: -item[1])[:15]]
    return "\n".join(lines)
