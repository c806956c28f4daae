"""What the scenarios share: the rows and notes of the report, the running processes, and a
batch over HTTP from its POST to its historic ``endTime``."""

import time
from dataclasses import dataclass
from datetime import datetime

from benchmarks.client import REST, HttpClient
from benchmarks.common import BenchError
from benchmarks.processes import Stack


@dataclass
class Row:
    scenario: str
    figure: str
    value: str
    baseline: str = ""
    baseline_value: str = ""
    ratio: str = ""
    target: str = ""
    result: str = ""  # PASS, FAIL, ERROR, or "" for a figure without a target


class Bench:
    """One run: its arguments, the data's facts, the rows and notes, the current stack."""

    def __init__(self, args, work_dir, sampler, on_row):
        self.args = args
        self.url = args.database_url
        self.redis_url = args.redis_url
        self.n = args.jobs
        self.work_dir = work_dir
        self.sampler = sampler
        self.on_row = on_row
        self.facts = {}
        self.settings = {}
        self.rows = []
        self.details = {}  # scenario -> [markdown lines]
        self.memory = {}  # figure -> peaks, for the run's JSON summary
        self.stack = None
        self.curve = None  # scenario 7's choices, for its section
        self.recovery = None  # the private servers of the recovery scenarios, made on first use
        self.recovery_description = None  # what they were, for the report

    def add(self, scenario, figure, value, baseline="", baseline_value="", ratio="", target="", result=""):
        row = Row(scenario, figure, value, baseline, baseline_value, ratio, target, result)
        self.rows.append(row)
        self.on_row(row)
        return row

    def note(self, scenario, line):
        self.details.setdefault(scenario, []).append(line)

    # --- processes ---
    def start_stack(self, label, web=True, workers=True, extra_env=None, worker_count=None):
        self.stop_stack()
        options = {} if worker_count is None else {"workers": worker_count}
        # The job log is on in every stack unless --no-job-log (README: the job log, spec A19).
        extra_env = {"JOB_LOG_ENABLED": "true" if getattr(self.args, "job_log", True) else "false",
                     **(extra_env or {})}
        self.stack = Stack(self.url, self.redis_url, self.work_dir, label, extra_env=extra_env, **options)
        self.stack.start(web=web, workers=workers)
        self.sampler.track(self.stack.trees())
        return self.stack

    def ensure_stack(self, workers):
        """The default stack: web alone, or web and workers (joining a running web)."""
        if self.stack is None:
            self.start_stack("web and workers" if workers else "web only", workers=workers)
        elif workers and not self.stack.workers:
            self.stack.start(web=False, workers=True)
            self.sampler.track(self.stack.trees())

    def stop_stack(self):
        if self.stack is not None:
            try:
                self.stack.stop()
            finally:
                self.stack = None
                self.sampler.track({})

    def client(self):
        return HttpClient(self.stack.port)

    # --- batches over HTTP ---
    def warm_up(self, client):
        """Send POST /job/retries with a job query that selects nothing, a few times per gunicorn
        worker: each answers 400 ("jobIds is empty") after running the batch code path (imports,
        pool, INSERT ... SELECT of no row) and writes nothing, so no measured request is a cold one.
        (Explicit ids are not checked at creation: a missing id would make a real batch.)"""
        for _ in range(4 * max(1, self.stack.web_processes())):
            client.request("POST", f"{REST}/job/retries",
                           {"retries": 3, "jobQuery": {"jobId": "bench-no-such-job"}}, retry=False).expect(400)
            client.request("POST", f"{REST}/job/count", {"jobId": "bench-no-such-job"}).expect(200)

    def run_batch(self, client, body, timeout, stack=None):
        """POST /job/retries, then GET /history/batch/{id} every 0.1 s until it has an endTime."""
        stack = stack or self.stack
        started = time.perf_counter()
        response = client.request("POST", f"{REST}/job/retries", body, retry=False).expect(200)
        batch = response.json()
        deadline = time.monotonic() + timeout
        polls = 0
        while not (history := client.request("GET", f"{REST}/history/batch/{batch['id']}").expect(200).json()
                   ).get("endTime"):
            polls += 1
            if polls % 20 == 0:
                stack.check_alive()
            if time.monotonic() > deadline:
                abandon_batch(client, batch["id"])
                raise BenchError(f"batch {batch['id']} did not end within {timeout:.0f} s "
                                 f"(worker logs in {self.work_dir})")
            time.sleep(0.1)
        return {"batch": batch, "history": history, "seconds": time.perf_counter() - started,
                "create_seconds": response.seconds, "polls": polls}


def abandon_batch(client, batch_id):
    try:
        client.request("DELETE", f"{REST}/batch/{batch_id}?cascade=true", retry=False)
    except Exception as exc:  # noqa: BLE001 - best effort
        print(f"warning: could not delete batch {batch_id}: {exc}")


def parse_wire_date(value):
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z") if value else None


def server_phases(history):
    """(startTime -> executionStartTime, executionStartTime -> endTime, startTime -> endTime) in
    seconds, from the historic batch (server clock, millisecond precision); None where missing."""
    keys = ("startTime", "executionStartTime", "endTime")
    start, execution, end = (parse_wire_date(history.get(key)) for key in keys)

    def span(first, last):
        return (last - first).total_seconds() if first and last else None

    return span(start, execution), span(execution, end), span(start, end)


def batch_timeout(elements, execution_jobs):
    return min(3600.0, 120.0 + 0.1 * execution_jobs + 0.002 * elements)
