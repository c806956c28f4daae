"""What the recovery scenarios (R1, R2, R3) share: a private PostgreSQL cluster and Redis
server loaded with their own data, and one batch run with a fault injected mid-batch.

Figures, not pass/fail of the harness: each run reports the seconds from the end of the fault
(the kill, or the server being back) to the batch's historic ``endTime`` (server clock), or
"not recovered within" the cap, and checks the outcome in SQL: every selected job has the
run's retries, no other job changed, no failedJob incident is left on a revived job.

The selection is every job that failed at load (``noRetriesLeft``); before each run those jobs
are set back to 0 retries with their incidents. Web and workers run the Procfile's lines with
small slices (``INVOCATIONS_PER_BATCH_JOB``, ``--recovery-invocations``) so the batch has
enough execution jobs for a fault to land mid-batch; the fault comes once
``--recovery-fault-at`` of them are complete.
"""

import time
from datetime import datetime, timezone

from benchmarks import datagen
from benchmarks.bench import abandon_batch, parse_wire_date
from benchmarks.client import REST, HttpClient
from benchmarks.common import BenchError, fmt_seconds, verdict
from benchmarks.db import connection, rows, vacuum
from benchmarks.private_servers import PrivatePostgres, PrivateRedis
from benchmarks.processes import Stack

DATABASE = "jobservice_bench_recovery"
SNAPSHOT = """
DROP TABLE IF EXISTS bench_selected, bench_others;
CREATE TABLE bench_selected AS SELECT id FROM job WHERE retries = 0;
CREATE TABLE bench_others AS SELECT id, retries, revision FROM job WHERE retries <> 0;
"""
CHECKS = {
    "selected jobs without the new retries": "SELECT count(*) FROM bench_selected s LEFT JOIN job j USING (id) "
                                             "WHERE j.retries IS DISTINCT FROM %(retries)s",
    "other jobs changed": "SELECT count(*) FROM bench_others o LEFT JOIN job j USING (id) "
                          "WHERE (j.retries, j.revision) IS DISTINCT FROM (o.retries, o.revision)",
    "failedJob incidents left on revived jobs": "SELECT count(*) FROM incident i JOIN bench_selected s "
                                                "ON i.configuration = s.id WHERE i.incident_type = 'failedJob'",
}


class Environment:
    """The private servers and their data, shared by the recovery scenarios of one run."""

    def __init__(self, bench):
        args = bench.args
        self.bench = bench
        self.postgres = self.redis = None
        try:
            self.postgres = PrivatePostgres(args.recovery_pg_port, DATABASE)
            self.redis = PrivateRedis(args.recovery_redis_port, bench.work_dir)
            print(f"recovery: private PostgreSQL on {args.recovery_pg_port}, Redis on {args.recovery_redis_port}; "
                  f"loading {args.recovery_jobs:,} jobs ...", flush=True)
            datagen.prepare(self.postgres.url, self.redis.url, bench.work_dir)
            self.facts = datagen.load(self.postgres.url, args.recovery_jobs)
            with connection(self.postgres.url, autocommit=True) as conn, conn.cursor() as cursor:
                cursor.execute(SNAPSHOT)
                self.selected = [row[0] for row in rows(conn, "SELECT id FROM bench_selected")]
        except BaseException:
            self.close()
            raise
        self.env = {"INVOCATIONS_PER_BATCH_JOB": str(args.recovery_invocations),
                    "INVOCATIONS_PER_BATCH_JOB_BY_TYPE": "", **dict(args.recovery_env)}

    def describe(self):
        return {"PostgreSQL": f"{self.postgres.version()}, private cluster on 127.0.0.1:{self.postgres.port} "
                              "(initdb defaults)",
                "Redis": f"{self.redis.version()}, private server on 127.0.0.1:{self.redis.port}, no persistence",
                "jobs": f"{self.facts['jobs']:,} ({len(self.selected):,} selected: failed at load)",
                "environment of web and workers": ", ".join(f"{key}={value!r}" for key, value in self.env.items())}

    def reset(self):
        """The selected jobs back to 0 retries with one failedJob incident each; VACUUM."""
        with connection(self.postgres.url) as conn:
            datagen.restore_failed(conn, self.selected)
        vacuum(self.postgres.url, "job", "incident")

    def stack(self, label, workers):
        return Stack(self.postgres.url, self.redis.url, self.bench.work_dir, label, extra_env=self.env,
                     workers=workers).start()

    def check(self, retries):
        """{check: count} after a run; every count should be 0."""
        with connection(self.postgres.url) as conn, conn.cursor() as cursor:
            found = {}
            for name, statement in CHECKS.items():
                cursor.execute(statement, {"retries": retries})
                found[name] = cursor.fetchone()[0]
        return found

    def close(self):
        for server in (self.redis, self.postgres):
            if server is not None:
                server.remove()


def environment(bench):
    """The run's recovery environment, made on first use (``close_environment`` removes it)."""
    if bench.recovery is None:
        bench.recovery = Environment(bench)
        bench.recovery_description = bench.recovery.describe()
    return bench.recovery


def close_environment(bench):
    if bench.recovery is not None:
        bench.recovery.close()
        bench.recovery = None


def _statistics(client, batch_id):
    """The batch's runtime statistics, or None once it has left the runtime table (done)."""
    found = client.request("GET", f"{REST}/batch/statistics?batchId={batch_id}").expect(200).json()
    return found[0] if found else None


def wait_for_progress(bench, client, batch, stack):
    """Poll until ``--recovery-fault-at`` of the execution jobs are complete; returns that share."""
    wanted = bench.args.recovery_fault_at * batch["totalJobs"]
    deadline = time.monotonic() + bench.args.recovery_cap_seconds
    while time.monotonic() < deadline:
        statistics = _statistics(client, batch["id"])
        if statistics is None:
            raise BenchError("the batch ended before the fault: raise --recovery-jobs or lower "
                             "--recovery-invocations so that it lasts longer")
        if statistics["completedJobs"] >= wanted:
            return statistics["completedJobs"] / batch["totalJobs"]
        stack.check_alive()
        time.sleep(0.05)
    raise BenchError(f"the batch did not reach {bench.args.recovery_fault_at:.0%} within the cap")


def wait_for_end(client, batch_id, since, cap):
    """Poll the historic batch until ``endTime`` (answers other than 200 are an outage: go on
    polling). Returns seconds from ``since`` (epoch) to ``endTime``, or None at the cap."""
    deadline = since + cap
    while time.time() < deadline:
        try:
            response = client.request("GET", f"{REST}/history/batch/{batch_id}")
            end = response.json().get("endTime") if response.status == 200 else None
        except (OSError, ValueError):
            client.close()
            end = None
        if end:
            return parse_wire_date(end).timestamp() - since
        time.sleep(0.2)
    return None


def run_with_fault(bench, label, retries, workers, fault):
    """One batch (retries ``retries``) on the private servers with ``workers`` worker processes;
    ``fault(stack)`` runs mid-batch and returns (epoch the recovery is counted from, details).
    Returns {"seconds" (None: not recovered within the cap), "progress", "checks", "details", ...}."""
    recovery = environment(bench)
    recovery.reset()
    stack = recovery.stack(label, workers)
    client = HttpClient(stack.port, timeout=30)
    try:
        for leftover in client.request("GET", f"{REST}/batch").expect(200).json():  # of a run that failed
            abandon_batch(client, leftover["id"])
        posted = time.monotonic()
        batch = client.request("POST", f"{REST}/job/retries", {"retries": retries, "jobQuery": {"noRetriesLeft": True}},
                               retry=False).expect(200).json()
        progress = wait_for_progress(bench, client, batch, stack)
        before_fault = time.monotonic() - posted  # the pace of the batch while nothing failed
        since, details = fault(stack)
        details = {"POST -> fault": fmt_seconds(before_fault), **details}
        seconds = wait_for_end(client, batch["id"], since, bench.args.recovery_cap_seconds)
        if seconds is None:
            abandon_batch(client, batch["id"])
    finally:
        client.close()
        stack.stop()
    checks = recovery.check(retries) if seconds is not None else None
    return {"seconds": seconds, "progress": progress, "checks": checks, "details": details, "batch": batch,
            "label": label, "retries": retries, "since": since}


def add_rows(bench, key, outcome, what, target_seconds=30):
    """The recovery time row and the checks row of one run."""
    cap = bench.args.recovery_cap_seconds
    seconds, batch = outcome["seconds"], outcome["batch"]
    figure = (f"{outcome['label']}: {what}; fault at {outcome['progress']:.0%} of {batch['totalJobs']} execution "
              f"jobs of {batch['invocationsPerBatchJob']}")
    value = fmt_seconds(seconds) if seconds is not None else f"not recovered within {cap:.0f} s"
    bench.add(key, figure, value, target=f"<= {target_seconds} s (issue 9, {key})",
              result=verdict(seconds is not None and seconds <= target_seconds))
    checks = outcome["checks"]
    if checks is None:
        bench.add(key, f"{outcome['label']}: checks", "not checked: the batch did not complete")
        return
    bench.add(key, f"{outcome['label']}: checks: " + " / ".join(checks), " / ".join(map(str, checks.values())),
              target="0 / 0 / 0", result=verdict(not any(checks.values())))


def note_run(bench, key, outcome):
    details = "; ".join(f"{name} {value}" for name, value in outcome["details"].items())
    bench.note(key, f"{outcome['label']}: batch {outcome['batch']['id']}, retries {outcome['retries']}; {details}. "
                    f"Counted from {datetime.fromtimestamp(outcome['since'], timezone.utc):%H:%M:%S} UTC.")


def job_lock_note(bench, key):
    lock = dict(bench.args.recovery_env).get("JOB_LOCK_TIME_SECONDS")
    setting = f"{lock} (set for this run with --recovery-env)" if lock else "at the product's default"
    bench.note(key, f"JOB_LOCK_TIME_SECONDS {setting}; the cap is {bench.args.recovery_cap_seconds:.0f} s from the "
                    "end of the fault.")
