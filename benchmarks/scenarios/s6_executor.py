"""Scenario 6 (issue 9's P5): executor throughput against the database's floor, and the
latency of one job from creation to done on an idle system.

Floor: the same number of jobs of a handler no worker serves, run by raw SQL in 2 processes,
each in lock rounds of 10 (``FOR UPDATE SKIP LOCKED``, as the executor acquires), then per job
its own transaction that locks the row and deletes it. Service: the ``demo.noop`` jobs are put
in suspended through ``POST /api/jobs`` while web and the Procfile's 2 workers run, then
activated by one ``PUT /job/suspended``; timed from that request until no job is left.

Latency (the target): one ``demo.noop`` job committed the way the ingestion commits it (its row
and the wake-up NOTIFY in one transaction, spec A25), timed from that COMMIT until the row is
gone. Also shown: the same through ``POST /api/jobs``, from the request until the row is gone,
which adds the ingestion request's own time.
"""

import multiprocessing
import os
import time
import uuid

from benchmarks.client import REST
from benchmarks.common import BenchError, fmt_ms, fmt_ratio, fmt_seconds, percentile, verdict
from benchmarks.db import connect, connection, scalar, scalar_at, vacuum
from benchmarks.scenarios.s5_memory import memory_value

KEY = "6"
TITLE = "Executor (P5): demo.noop throughput against the raw-SQL floor, and creation-to-done latency"
STACK = None  # starts its own web and workers
FLOOR_HANDLER = "bench.floor"
FLOOR_PROCESSES = 2
PROCESS_KEY = "bench-p5"
INGEST_CHUNK = 100  # small requests: the web's memory peak stays that of the executor run
INSERT_JOBS = """
INSERT INTO job (id, revision, type, handler_type, retries, suspended, priority, create_time)
SELECT gen_random_uuid()::text, 1, 'message', %s, 3, false, 0, date_trunc('milliseconds', now() AT TIME ZONE 'UTC')
FROM generate_series(1, %s)
"""
NOW = "(now() AT TIME ZONE 'UTC')"
FLOOR_ACQUIRE = f"""
UPDATE job SET lock_owner = %(owner)s, lock_expiration_time = {NOW} + interval '5 minutes', revision = revision + 1
WHERE id IN (SELECT id FROM job
             WHERE handler_type = %(handler)s AND retries > 0 AND NOT suspended
               AND (due_date IS NULL OR due_date <= {NOW})
               AND (lock_expiration_time IS NULL OR lock_expiration_time < {NOW})
             ORDER BY priority DESC, due_date ASC NULLS FIRST LIMIT 10 FOR UPDATE SKIP LOCKED)
RETURNING id, revision
"""
FLOOR_LOCK = "SELECT 1 FROM job WHERE id = %s AND lock_owner = %s AND revision = %s FOR UPDATE"
FLOOR_DELETE = "DELETE FROM job WHERE id = %s"
# One demo.noop job as POST /api/jobs writes it, committed together with the wake-up NOTIFY.
INSERT_ONE = ("INSERT INTO job (id, revision, type, handler_type, retries, suspended, priority, create_time, "
              "has_stacktrace) VALUES (%s, 1, 'message', 'demo.noop', 3, false, 0, "
              "date_trunc('milliseconds', now() AT TIME ZONE 'UTC'), false)")
WAKE_NOTIFY = "SELECT pg_notify('jobservice_wake', '')"
# The job log (on by default, spec A19): one success event per demo.noop job the run finishes.
SUCCESS_EVENTS = "SELECT count(*) FROM job_log WHERE job_state = 2 AND job_definition_type = 'demo.noop'"


def floor_process(url, ready, start, results):
    """One floor process: rounds of 10 until a round finds nothing; reports (jobs, finish time)."""
    conn = connect(url)
    owner = f"floor-{os.getpid()}"
    done = 0
    ready.put(owner)
    start.wait(timeout=120)
    try:
        while True:
            with conn.cursor() as cursor:
                cursor.execute(FLOOR_ACQUIRE, {"owner": owner, "handler": FLOOR_HANDLER})
                acquired = cursor.fetchall()
            conn.commit()
            if not acquired:
                break
            for job_id, revision in acquired:
                with conn.cursor() as cursor:
                    cursor.execute(FLOOR_LOCK, (job_id, owner, revision))
                    if cursor.fetchone():
                        cursor.execute(FLOOR_DELETE, (job_id,))
                        done += cursor.rowcount
                conn.commit()
    finally:
        conn.close()
        results.put((done, time.monotonic()))


def measure_floor(bench, count):
    """Seconds for the floor processes to run ``count`` jobs (from the start signal to the last finish)."""
    insert_jobs(bench.url, FLOOR_HANDLER, count)
    context = multiprocessing.get_context("spawn")
    ready, start, results = context.Queue(), context.Event(), context.Queue()
    processes = [context.Process(target=floor_process, args=(bench.url, ready, start, results), daemon=True)
                 for _ in range(FLOOR_PROCESSES)]
    for process in processes:
        process.start()
    for _ in processes:  # the clock starts once every process has connected
        ready.get(timeout=120)
    started = time.monotonic()
    start.set()
    reports = [results.get(timeout=bench.args.noop_seconds) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    done = sum(jobs for jobs, _ in reports)
    if done != count:
        raise BenchError(f"the floor processes ran {done} of {count} jobs")
    return max(finished for _, finished in reports) - started


def insert_jobs(url, handler, count):
    with connection(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(INSERT_JOBS, (handler, count))
    vacuum(url, "job", analyze=True)


def ingest_suspended(bench, client, count):
    """``count`` demo.noop jobs through POST /api/jobs, suspended, under one process definition key."""
    for offset in range(0, count, INGEST_CHUNK):
        items = [{"handlerType": "demo.noop", "suspended": True, "processDefinitionKey": PROCESS_KEY}
                 for _ in range(min(INGEST_CHUNK, count - offset))]
        client.request("POST", "/api/jobs", items, retry=False).expect(201)
    vacuum(bench.url, "job", analyze=True)


def run_activated(bench, client, count):
    """PUT /job/suspended (activate), then the count of demo.noop jobs every 0.05 s until none
    is left. Returns (seconds to all done, seconds from the first job done to all done)."""
    timeout = bench.args.noop_seconds
    with connection(bench.url, autocommit=True) as conn:
        started = time.perf_counter()
        client.request("PUT", f"{REST}/job/suspended", {"processDefinitionKey": PROCESS_KEY, "suspended": False},
                       retry=False).expect(204)
        first_done = None
        for index in range(int(timeout / 0.05) + 2):
            remaining = scalar(conn, "SELECT count(*) FROM job WHERE handler_type = 'demo.noop'")
            now = time.perf_counter()
            if first_done is None and remaining < count:
                first_done = now
            if remaining == 0 or now - started > timeout:
                break
            if index % 100 == 0:
                bench.stack.check_alive()
            time.sleep(0.05)
    if remaining:
        raise BenchError(f"{remaining} of {count} demo.noop jobs still there after {timeout:.0f} s")
    return now - started, (now - first_done) if first_done is not None else None


def single_job_latency(bench, client, samples):
    """POST /api/jobs with one demo.noop job, then polled by id every 5 ms until deleted, 0.5 s
    apart. Returns (latencies, response times, samples done before the response)."""
    latencies, responses, done_before_response = [], [], 0
    with connection(bench.url, autocommit=True) as conn:
        for _ in range(samples):
            time.sleep(0.5)  # pacing: each job meets an idle system
            started = time.perf_counter()
            response = client.request("POST", "/api/jobs", [{"handlerType": "demo.noop"}], retry=False)
            created = response.expect(201).json()
            responses.append(response.seconds)
            if not created:
                # The web reads the new jobs back after its commit; a worker that already ran and
                # deleted the job leaves that list empty: the response time is an upper bound.
                done_before_response += 1
                latencies.append(response.seconds)
                continue
            gone = _poll_gone(conn, created[0]["id"], started)
            latencies.append(gone - started)
    return latencies, responses, done_before_response


def commit_to_done_latency(bench, samples):
    """One demo.noop job inserted and committed with the wake-up NOTIFY, polled every 1 ms until
    deleted, 0.5 s apart; returns the latencies from the COMMIT."""
    latencies = []
    with connection(bench.url) as writer, connection(bench.url, autocommit=True) as reader:
        for _ in range(samples):
            time.sleep(0.5)  # pacing: each job meets an idle system
            job_id = str(uuid.uuid4())
            with writer.cursor() as cursor:
                cursor.execute(INSERT_ONE, (job_id,))
                cursor.execute(WAKE_NOTIFY)
            started = time.perf_counter()
            writer.commit()
            latencies.append(_poll_gone(reader, job_id, started, interval=0.001) - started)
    return latencies


def _poll_gone(conn, job_id, started, interval=0.005):
    while time.perf_counter() - started < 30:
        if not scalar(conn, "SELECT 1 FROM job WHERE id = %s", (job_id,)):
            return time.perf_counter()
        time.sleep(interval)
    raise BenchError(f"demo.noop job {job_id} was not done within 30 s")


def run(bench):
    count = bench.args.noop_jobs
    floor_seconds = measure_floor(bench, count)
    vacuum(bench.url, "job")
    bench.start_stack("executor (our defaults)", extra_env={"JOB_DEMO_HANDLERS": "true"})
    client = bench.client()
    try:
        ingest_suspended(bench, client, count)
        successes_before = scalar_at(bench.url, SUCCESS_EVENTS)
        with bench.sampler.window() as window:
            seconds, busy = run_activated(bench, client, count)
        throughput_rows(bench, count, seconds, busy, floor_seconds, window)
        successes = scalar_at(bench.url, SUCCESS_EVENTS) - successes_before
        bench.add(KEY, f"job log {'on' if bench.args.job_log else 'off'}: success events of the run",
                  f"{successes}", target=f"{count}" if bench.args.job_log else "0",
                  result=verdict(successes == (count if bench.args.job_log else 0)))
        time.sleep(1.0)  # the last round's tasks and hints drain: the latency samples meet an idle system
        committed = commit_to_done_latency(bench, bench.args.latency_samples)
        latency_rows(bench, committed, *single_job_latency(bench, client, bench.args.latency_samples))
    finally:
        client.close()
        bench.stop_stack()


def throughput_rows(bench, count, seconds, busy, floor_seconds, window):
    bench.add(KEY, f"{count} demo.noop jobs, activation (PUT /job/suspended) to all done",
              f"{fmt_seconds(seconds)} ({count / seconds:.0f} jobs/s)",
              f"raw-SQL floor: {FLOOR_PROCESSES} processes, lock rounds of 10 (FOR UPDATE SKIP LOCKED), "
              "then one transaction per job (lock + delete)",
              f"{fmt_seconds(floor_seconds)} ({count / floor_seconds:.0f} jobs/s)", fmt_ratio(seconds, floor_seconds),
              "<= 1.5x floor (issue 9, P5)", verdict(seconds <= 1.5 * floor_seconds))
    if busy:
        bench.add(KEY, "first job done to all done", f"{fmt_seconds(busy)} ({count / busy:.0f} jobs/s)")
    for name in sorted(window.peaks):
        bench.memory[f"executor_{name}"] = window.peaks[name]
        bench.add(KEY, f"{name}: peak memory during the run", memory_value(window.peaks[name]))


def latency_rows(bench, committed, latencies, responses, done_before_response):
    p50 = percentile(committed, 0.5)
    bench.add(KEY, f"creation (COMMIT of the job and its wake-up NOTIFY) to done, 1 job at a time "
                   f"(n={len(committed)}): p50 / p95", f"{fmt_ms(p50)} / {fmt_ms(percentile(committed, 0.95))}",
              target="p50 <= 10 ms (issue 9, P5)", result=verdict(p50 <= 0.010))
    bench.add(KEY, f"POST /api/jobs request to done, 1 job at a time (n={len(latencies)}): p50 / p95",
              f"{fmt_ms(percentile(latencies, 0.5))} / {fmt_ms(percentile(latencies, 0.95))}",
              "POST /api/jobs response p50", fmt_ms(percentile(responses, 0.5)))
    bench.note(KEY, "Throughput: the jobs are put in suspended by POST /api/jobs (web and the 2 workers running, "
                    f"JOB_DEMO_HANDLERS=true), then activated by one PUT /job/suspended (processDefinitionKey "
                    f"{PROCESS_KEY}), which commits and wakes the executor as any activation does; the job count is "
                    "polled every 0.05 s. The floor runs first, on the same table, with the processes connected "
                    "before the clock starts. Latency: one demo.noop job inserted and committed with the wake-up "
                    "NOTIFY in one transaction, as the ingestion commits it (spec A25), timed from the COMMIT and "
                    "polled by id every 1 ms until deleted, 0.5 s apart; then the same through POST /api/jobs, "
                    "timed from the request and polled every 5 ms, which adds the ingestion request. Celery logs "
                    "at the Procfile's level (INFO). The web's "
                    f"memory peak includes the POST /api/jobs requests ({INGEST_CHUNK} jobs each) made just before the "
                    "window opens: a process's RSS does not shrink back.")
    if done_before_response:
        bench.note(KEY, f"In {done_before_response} of {len(latencies)} latency samples POST /api/jobs answered 201 "
                        "with an empty list: the worker had executed and deleted the job before the web read it back "
                        "after its commit, so the client never learns the new job's id. Those samples count the "
                        "response time.")
