"""R1: a whole worker (the Celery main process and its pool, one process group) killed with
SIGKILL mid-batch. Two runs: the only worker killed and a fresh one started 1 s later; then two
workers with one killed, the survivor left to finish. Seconds from the kill to ``endTime``."""

import time

from benchmarks.scenarios import recovery

KEY = "R1"
TITLE = "Recovery: SIGKILL of a whole worker mid-batch (fresh worker 1 s later; or a survivor)"
STACK = None  # runs on the private servers (benchmarks.scenarios.recovery)
RESTART_DELAY = 1.0  # the scenario's definition: a fresh worker is started a second after the kill


def kill_and_restart(stack):
    killed_at = time.time()
    stack.kill_worker(stack.workers[0])
    time.sleep(RESTART_DELAY)
    started = time.monotonic()
    stack.start_worker()
    return killed_at, {"fresh worker ready": f"{RESTART_DELAY + time.monotonic() - started:.1f} s after the kill"}


def kill_one_of_two(stack):
    killed_at = time.time()
    stack.kill_worker(stack.workers[0])
    return killed_at, {"survivor": stack.workers[0].name}


def run(bench):
    runs = (("fresh worker", 1, kill_and_restart, 5, "the only worker killed, a fresh one 1 s later: kill -> endTime"),
            ("survivor", 2, kill_one_of_two, 6, "one of 2 workers killed, no restart: kill -> endTime"))
    for label, workers, fault, retries, what in runs:
        outcome = recovery.run_with_fault(bench, f"R1 {label}", retries, workers, fault)
        recovery.add_rows(bench, KEY, outcome, what)
        recovery.note_run(bench, KEY, outcome)
    recovery.job_lock_note(bench, KEY)
