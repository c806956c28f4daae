"""The seven scenarios. Each adds rows (figure, value, baseline, ratio, target, PASS/FAIL) to the
:class:`Bench`; every baseline is measured in the same run, on the same data.

Order (``benchmarks.run`` drives it): web only (no worker, so nothing executes) for 4, 3 and
the streaming half of 5; then the workers join for 1 (which also gives 5 its worker and web
peaks); then 2, 6 and 7, each with its own restarts of web and workers.
"""

import json
import math
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from benchmarks import datagen
from benchmarks.processes import WORKER_COUNT, Stack
from benchmarks.util import (
    BenchError,
    HttpClient,
    connection,
    median,
    percentile,
    scalar,
    settled_update_counters,
    table_update_counters,
    timed_execute,
    vacuum,
)

REST = "/engine-rest"
MB = 1024 * 1024

TITLES = {
    1: "Batch end-to-end: retries 3 on every failed job (POST /job/retries, noRetriesLeft)",
    2: "Batch settings: Camunda's defaults vs ours, same failed jobs",
    3: "Batch creation latency (POST /job/retries response time)",
    4: "Job query (POST /job maxResults=50, POST /job/count)",
    5: "Memory: peak RSS per process and PSS per process tree, web and workers",
    6: "Executor: demo.noop throughput and creation-to-done latency",
    7: "Curve: batch end-to-end by slice size, seed size, worker concurrency, pool size",
}


@dataclass
class Row:
    scenario: int
    figure: str
    value: str
    baseline: str = ""
    baseline_value: str = ""
    ratio: str = ""
    target: str = ""
    result: str = ""  # PASS, FAIL, ERROR, or "" for a figure without a target


def fmt_seconds(seconds):
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def fmt_ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def fmt_mb(size):
    return f"{size / MB:.0f} MB"


def fmt_ratio(value, baseline):
    if not baseline:
        return "n/a"
    ratio = value / baseline
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def fmt_date(moment):
    """Camunda's wire format, UTC."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def bounded_samples(function, repetitions, max_seconds, minimum=5):
    """Call ``function`` (returns seconds) up to ``repetitions`` times; stop early once
    ``max_seconds`` have passed and at least ``minimum`` samples exist."""
    samples = []
    deadline = time.monotonic() + max_seconds
    for _ in range(repetitions):
        samples.append(function())
        if time.monotonic() > deadline and len(samples) >= minimum:
            break
    return samples


class Bench:
    """What the scenarios share: settings, the data's facts, the rows, the running processes."""

    def __init__(self, args, app, machine_tag, facts, settings, work_dir, sampler, on_row):
        self.args = args
        self.url = args.database_url
        self.redis_url = args.redis_url
        self.app = app
        self.n = args.jobs
        self.machine_tag = machine_tag
        self.facts = facts
        self.settings = settings
        self.work_dir = work_dir
        self.sampler = sampler
        self.on_row = on_row
        self.rows = []
        self.details = {}  # scenario -> [markdown lines]
        self.memory = {}  # figure -> peaks, for the run's JSON summary
        self.stack = None
        self.curve = None  # scenario 7's table and choices

    # --- rows and notes ---
    def add(self, scenario, figure, value, baseline="", baseline_value="", ratio="", target="", result=""):
        row = Row(scenario, figure, value, baseline, baseline_value, ratio, target, result)
        self.rows.append(row)
        self.on_row(row)
        return row

    def note(self, scenario, line):
        self.details.setdefault(scenario, []).append(line)

    # --- processes ---
    def start_stack(self, label, web=True, workers=True, extra_env=None):
        self.stop_stack()
        self.stack = Stack(self.url, self.redis_url, self.work_dir, label, extra_env=extra_env)
        self.stack.start(web=web, workers=workers)
        self.sampler.track(self.stack.trees())
        return self.stack

    def add_workers(self):
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
        workers = int(self.settings.get("WEB_CONCURRENCY (gunicorn workers)") or 2)
        for _ in range(4 * workers):
            client.request("POST", f"{REST}/job/retries",
                           {"retries": 3, "jobQuery": {"jobId": "bench-no-such-job"}}, retry=False).expect(400)
            client.request("POST", f"{REST}/job/count", {"jobId": "bench-no-such-job"}).expect(200)

    def run_batch(self, client, body, timeout):
        """POST /job/retries, then GET /history/batch/{id} every 0.1 s until it has an endTime."""
        started = time.perf_counter()
        response = client.request("POST", f"{REST}/job/retries", body, retry=False).expect(200)
        batch = response.json()
        deadline = time.monotonic() + timeout
        polls = 0
        while True:
            history = client.request("GET", f"{REST}/history/batch/{batch['id']}").expect(200).json()
            if history.get("endTime"):
                break
            polls += 1
            if polls % 20 == 0:
                self.stack.check_alive()
            if time.monotonic() > deadline:
                self._abandon_batch(client, batch["id"])
                raise BenchError(f"batch {batch['id']} did not end within {timeout:.0f} s "
                                 f"(worker logs in {self.work_dir})")
            time.sleep(0.1)
        return {"batch": batch, "history": history, "seconds": time.perf_counter() - started,
                "create_seconds": response.seconds, "polls": polls}

    def _abandon_batch(self, client, batch_id):
        try:
            client.request("DELETE", f"{REST}/batch/{batch_id}?cascade=true", retry=False)
        except Exception as exc:  # noqa: BLE001 - best effort
            print(f"warning: could not delete batch {batch_id}: {exc}")


def _parse_wire_date(value):
    from datetime import datetime

    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z") if value else None


def server_phases(history):
    """(startTime -> executionStartTime, executionStartTime -> endTime, startTime -> endTime) in seconds,
    from the historic batch (server clock, millisecond precision); None where a time is missing."""
    keys = ("startTime", "executionStartTime", "endTime")
    start, execution, end = (_parse_wire_date(history.get(key)) for key in keys)

    def span(a, b):
        return (b - a).total_seconds() if a and b else None

    return span(start, execution), span(execution, end), span(start, end)


def batch_timeout(elements, execution_jobs):
    return min(3600.0, 120.0 + 0.1 * execution_jobs + 0.002 * elements)


# =============================================================================================
# Scenario 4: job queries
# =============================================================================================

def _query_specs(bench):
    anchor = bench.facts["anchor"]
    from datetime import timedelta

    with connection(bench.url) as conn:
        instance = scalar(conn, "SELECT process_instance_id FROM job WHERE id = md5('bench-job-' || %s)::uuid::text",
                          (max(1, bench.n // 2),))
        keys = [row[0] for row in _rows(conn, "SELECT process_definition_key FROM job "
                                              "WHERE process_definition_key IS NOT NULL "
                                              "GROUP BY 1 ORDER BY count(*) DESC, 1")]
        mid_key = keys[min(5, len(keys) - 1)]
        activity = scalar(conn, "SELECT min(activity_id) FROM job_definition WHERE process_definition_key = %s",
                          (mid_key,))
    deep = min(10000, max(0, bench.n - 50))
    return [
        {"name": "processInstanceId", "body": {"processInstanceId": instance}},
        {"name": "processDefinitionKey (rarest key)", "body": {"processDefinitionKey": keys[-1]}},
        {"name": "3 filters + 2-level sort",
         "body": {"processDefinitionKey": keys[0], "tenantIdIn": ["tenant-3"], "withException": True,
                  "sorting": [{"sortBy": "jobPriority", "sortOrder": "desc"},
                              {"sortBy": "jobDueDate", "sortOrder": "asc"}]}},
        {"name": "tenantIdIn", "body": {"tenantIdIn": ["tenant-3"]}},
        {"name": "noRetriesLeft", "body": {"noRetriesLeft": True}},
        {"name": "dueDates range (24 h)",
         "body": {"dueDates": [{"operator": "gt", "value": fmt_date(anchor - timedelta(hours=12))},
                               {"operator": "lt", "value": fmt_date(anchor + timedelta(hours=12))}]}},
        {"name": "createTimes range (24 h)",
         "body": {"createTimes": [{"operator": "gt", "value": fmt_date(anchor - timedelta(hours=36))},
                                  {"operator": "lt", "value": fmt_date(anchor - timedelta(hours=12))}]}},
        {"name": "priority range 50..60",
         "body": {"priorityHigherThanOrEquals": 50, "priorityLowerThanOrEquals": 60}},
        {"name": "activityId", "body": {"activityId": activity}},
        {"name": f"deep page firstResult={deep}", "body": {}, "first_result": deep, "deep": True},
    ]


def _rows(conn, sql, params=None):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _captured_sql(bench, function, *args):
    """The SQL text (parameters interpolated, as psycopg2 sends it) the service issues."""
    from sqlalchemy import event

    from app.extensions import db

    captured = []

    def before(conn, cursor, statement, parameters, context, executemany):
        captured.append(cursor.mogrify(statement, parameters).decode())

    with bench.app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            function(*args)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            db.session.rollback()
            db.session.remove()
    statements = [sql for sql in captured if "FROM job" in sql]
    if len(statements) != 1:
        raise BenchError(f"expected one job statement, captured {len(captured)}: {captured}")
    return statements[0]


def _plan_summary(plan):
    """(outline, seq scans on job, estimated rows at the job scan) of an EXPLAIN JSON plan."""
    outline, seq_scans, estimates = [], [], []

    def walk(node, depth):
        kind = node["Node Type"]
        label = kind
        if node.get("Index Name"):
            label += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            label += f" on {node['Relation Name']}"
        outline.append(f"{'  ' * depth}{label} (est. {node.get('Plan Rows')} rows)")
        if node.get("Relation Name") == "job" and "Scan" in kind:
            estimates.append(node.get("Plan Rows", 0))
            if "Seq Scan" in kind:
                seq_scans.append(node)
        for child in node.get("Plans", ()):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    estimate = max(estimates) if estimates else None
    return outline, seq_scans, estimate


def scenario_queries(bench):
    from app.services.job_query import count_jobs, list_jobs
    from schemas.job_query import job_query_from_json

    args = bench.args
    specs = _query_specs(bench)
    total = scalar_url(bench.url, "SELECT count(*) FROM job")
    client = bench.client()
    sql_conn = connection_open(bench.url)
    try:
        for spec in specs:
            with bench.app.app_context():
                query = job_query_from_json(spec["body"])
            first = spec.get("first_result") or None
            spec["list_sql"] = _captured_sql(bench, list_jobs, query, first, 50)
            spec["count_sql"] = _captured_sql(bench, count_jobs, query)
            spec["list_path"] = f"{REST}/job?maxResults=50" + (f"&firstResult={first}" if first else "")
            with sql_conn.cursor() as cursor:
                cursor.execute(spec["count_sql"])
                spec["count"] = cursor.fetchone()[0]
                for kind in ("list", "count"):
                    cursor.execute("EXPLAIN (FORMAT JSON) " + spec[f"{kind}_sql"])
                    plan = cursor.fetchone()[0]
                    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                    spec[f"{kind}_plan"] = _plan_summary(plan)
            # Warm up both paths, and check the service answers what the SQL answers.
            for _ in range(3):
                listed = client.request("POST", spec["list_path"], spec["body"]).expect(200).json()
                counted = client.request("POST", f"{REST}/job/count", spec["body"]).expect(200).json()
                timed_execute(sql_conn, spec["list_sql"], fetch=True)
            if counted.get("count") != spec["count"]:
                raise BenchError(f"{spec['name']}: /job/count says {counted} but the SQL counts {spec['count']}")
            if len(listed) != min(50, max(0, spec["count"] - (first or 0))):
                raise BenchError(f"{spec['name']}: /job returned {len(listed)} rows")

        # 1 client over HTTP, then the same SQL alone through psycopg2.
        for spec in specs:
            for kind, method_path, sql in (("list", spec["list_path"], spec["list_sql"]),
                                           ("count", f"{REST}/job/count", spec["count_sql"])):
                spec[f"{kind}_http"] = bounded_samples(
                    lambda: client.request("POST", method_path, spec["body"]).expect(200).seconds,
                    args.query_repetitions, args.query_seconds)
                spec[f"{kind}_sql"] = bounded_samples(
                    lambda: timed_execute(sql_conn, sql, fetch=True)[0],
                    args.query_repetitions, args.query_seconds)
    finally:
        client.close()
        sql_conn.close()

    _concurrent_queries(bench, specs, clients=4)
    _keyset_pages(bench)

    bench.note(4, f"Jobs in the table: {total}. Each query: {args.query_repetitions} requests at most "
                  f"(fewer when one query passes {args.query_seconds:.0f} s), after 3 warm-up requests; "
                  "the baseline is the SQL the service issues for the same request (captured from "
                  "SQLAlchemy, parameters interpolated), run alone through psycopg2 with all rows fetched.")
    for spec in specs:
        _query_rows(bench, spec, total)


def _keyset_pages(bench):
    """Our keyset paging extension (app.services.job_pages) at the deepest page, against
    ``firstResult`` at the same depth: p99 <= 50 ms at any depth is the target."""
    from app.services.job_pages import next_page_token

    depth = max(0, bench.n - 100)
    orders = [("default order (id)", {}, [], "SELECT id FROM job ORDER BY id OFFSET %s LIMIT 1", ("id",)),
              ("jobPriority desc", {"sorting": [{"sortBy": "jobPriority", "sortOrder": "desc"}]},
               [("jobPriority", "desc")],
               "SELECT priority, id FROM job ORDER BY priority DESC, id OFFSET %s LIMIT 1", ("priority", "id"))]
    client = bench.client()
    try:
        for name, body, ordering, sql, columns in orders:
            with connection(bench.url) as conn:
                row = dict(zip(columns, _rows(conn, sql, (depth - 1,))[0]))
            token = next_page_token(row, ordering)
            keyset_path = f"{REST}/job?maxResults=50&pageToken={token}"
            offset_path = f"{REST}/job?maxResults=50&firstResult={depth}"
            keyset_page = client.request("POST", keyset_path, body).expect(200).json()
            offset_page = client.request("POST", offset_path, body).expect(200).json()
            if [job["id"] for job in keyset_page] != [job["id"] for job in offset_page]:
                raise BenchError(f"keyset page {name} differs from the firstResult page at {depth}")
            keyset = bounded_samples(lambda: client.request("POST", keyset_path, body).expect(200).seconds,
                                     bench.args.query_repetitions, bench.args.query_seconds)
            offset = bounded_samples(lambda: client.request("POST", offset_path, body).expect(200).seconds,
                                     bench.args.query_repetitions, bench.args.query_seconds)
            p50, p99 = percentile(keyset, 0.5), percentile(keyset, 0.99)
            b50, b99 = percentile(offset, 0.5), percentile(offset, 0.99)
            bench.add(4, f"keyset pageToken at row {depth:,}, {name}: list p50 / p99, 1 client (n={len(keyset)})",
                      f"{fmt_ms(p50)} / {fmt_ms(p99)}", f"firstResult={depth} (same page)",
                      f"{fmt_ms(b50)} / {fmt_ms(b99)}", f"{fmt_ratio(p50, b50)} / {fmt_ratio(p99, b99)}",
                      "p99 <= 50 ms at any depth", verdict(p99 <= 0.050))
    finally:
        client.close()


def scalar_url(url, sql, params=None):
    with connection(url) as conn:
        return scalar(conn, sql, params)


def connection_open(url):
    from benchmarks.util import connect

    return connect(url, autocommit=True)


def _concurrent_queries(bench, specs, clients):
    """``clients`` threads, each with its own keep-alive connection, cycling through the list
    and count requests of every query, bounded by rounds and by time."""
    rounds = bench.args.concurrent_rounds
    deadline = time.monotonic() + bench.args.concurrent_seconds
    lock = threading.Lock()
    for spec in specs:
        spec["list_http4"], spec["count_http4"] = [], []
    errors = []

    def run(offset):
        client = bench.client()
        try:
            for _ in range(rounds):
                for index in range(len(specs)):
                    spec = specs[(index + offset) % len(specs)]
                    listed = client.request("POST", spec["list_path"], spec["body"]).expect(200).seconds
                    counted = client.request("POST", f"{REST}/job/count", spec["body"]).expect(200).seconds
                    with lock:
                        spec["list_http4"].append(listed)
                        spec["count_http4"].append(counted)
                    if time.monotonic() > deadline:
                        return
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(k * len(specs) // clients,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=bench.args.concurrent_seconds + 120)
    if any(thread.is_alive() for thread in threads):
        raise BenchError("a query client thread did not finish in time")
    if errors:
        raise errors[0]


def _query_rows(bench, spec, total):
    name = spec["name"]
    deep = spec.get("deep", False)
    selectivity = spec["count"] / total if total else 0.0
    p = {key: (percentile(spec[key], 0.5), percentile(spec[key], 0.99))
         for key in ("list_http", "list_sql", "count_http", "count_sql", "list_http4", "count_http4")}

    def pair(key):
        return f"{fmt_ms(p[key][0])} / {fmt_ms(p[key][1])}"

    def ratios(key, base):
        return f"{fmt_ratio(p[key][0], p[base][0])} / {fmt_ratio(p[key][1], p[base][1])}"

    samples = f"n={len(spec['list_http'])}"
    if deep:
        target, ok = "p99 <= 100 ms", p["list_http"][1] <= 0.100
    else:
        target, ok = "p50 <= 10 ms, p99 <= 50 ms", p["list_http"][0] <= 0.010 and p["list_http"][1] <= 0.050
    bench.add(4, f"{name}: list p50 / p99, 1 client ({samples}, {spec['count']} match)", pair("list_http"),
              "same SQL alone", pair("list_sql"), ratios("list_http", "list_sql"), target, verdict(ok))
    bench.add(4, f"{name}: list p50 / p99, 4 clients (n={len(spec['list_http4'])})", pair("list_http4"),
              "same SQL alone", pair("list_sql"), ratios("list_http4", "list_sql"), "p99 <= 100 ms",
              verdict(p["list_http4"][1] <= 0.100))
    if spec["count"] <= 10000:
        count_target, count_result = "p99 <= 50 ms (<= 10k match)", verdict(p["count_http"][1] <= 0.050)
    else:
        count_target, count_result = "none (> 10k match)", ""
    bench.add(4, f"{name}: count p50 / p99, 1 client", pair("count_http"), "same SQL alone", pair("count_sql"),
              ratios("count_http", "count_sql"), count_target, count_result)
    bench.add(4, f"{name}: count p50 / p99, 4 clients (n={len(spec['count_http4'])})", pair("count_http4"),
              "same SQL alone", pair("count_sql"), ratios("count_http4", "count_sql"))
    for kind in ("list", "count"):
        outline, seq_scans, estimate = spec[f"{kind}_plan"]
        estimate_text = f"{estimate} rows ({estimate / total:.2%})" if estimate is not None and total else "n/a"
        plan_value = (f"{'Seq Scan' if seq_scans else 'no Seq Scan'}; selectivity {selectivity:.2%}, "
                      f"planner est. {estimate_text}")
        bench.add(4, f"{name}: plan (EXPLAIN of the {kind} query)", plan_value,
                  target="no Seq Scan if <= 1 % match", result=verdict(not seq_scans or selectivity > 0.01))
    bench.note(4, f"**{name}** `{json.dumps(spec['body'])}`"
                  + (f" firstResult={spec['first_result']}" if spec.get("first_result") else "")
                  + f": {spec['count']} match ({selectivity:.2%})")
    bench.note(4, "```\nlist:\n" + "\n".join(spec["list_plan"][0]) + "\ncount:\n"
               + "\n".join(spec["count_plan"][0]) + "\n```")


# =============================================================================================
# Scenario 3: batch creation latency (no worker runs, every batch is deleted again)
# =============================================================================================

def scenario_creation(bench):
    invocations = bench.settings["INVOCATIONS_PER_BATCH_JOB"]
    repetitions = bench.args.creation_repetitions
    total = scalar_url(bench.url, "SELECT count(*) FROM job")
    sizes = [1000, 10000, 100000]
    cases = []
    with connection(bench.url) as conn:
        for size in sizes[:2]:
            count = min(size, total)
            ids = [row[0] for row in _rows(conn, "SELECT id FROM job ORDER BY id LIMIT %s", (count,))]
            cases.append({"name": f"jobIds, {count} ids", "size": count, "body": {"retries": 3, "jobIds": ids},
                          "raw": ("INSERT INTO batch_element (batch_id, slice, job_id) "
                                  "SELECT 'bench-raw', (row_number() OVER (ORDER BY id) - 1) / %(inv)s, id "
                                  "FROM unnest(%(ids)s::text[]) AS selection(id)"),
                          "params": {"inv": invocations, "ids": ids}})
        for size in sizes:
            count = min(size, total)
            bound = scalar(conn, "SELECT create_time FROM job ORDER BY create_time OFFSET %s LIMIT 1", (count - 1,))
            matched = scalar(conn, "SELECT count(*) FROM job WHERE create_time <= %s", (bound,))
            cases.append({"name": f"jobQuery createTimes, {matched} jobs", "size": matched,
                          "largest": size == sizes[-1],
                          "capped": count < size,
                          "body": {"retries": 3,
                                   "jobQuery": {"createTimes": [{"operator": "lt", "value": fmt_date(bound)}]}},
                          "raw": ("INSERT INTO batch_element (batch_id, slice, job_id) "
                                  "SELECT 'bench-raw', (row_number() OVER () - 1) / %(inv)s, id "
                                  "FROM job WHERE create_time <= %(bound)s"),
                          "params": {"inv": invocations, "bound": bound}})

    client = bench.client()
    try:
        bench.warm_up(client)
        for case in cases:
            api, deletes = [], []
            for _ in range(repetitions):
                response = client.request("POST", f"{REST}/job/retries", case["body"], retry=False).expect(200)
                batch = response.json()
                if batch.get("totalJobs") != math.ceil(case["size"] / invocations):
                    raise BenchError(f"{case['name']}: totalJobs {batch.get('totalJobs')} for {case['size']} jobs")
                api.append(response.seconds)
                deleted = client.request("DELETE", f"{REST}/batch/{batch['id']}?cascade=true", retry=False)
                deletes.append(deleted.expect(204).seconds)
            raw = []
            with connection(bench.url) as conn:
                for _ in range(repetitions):
                    seconds, rowcount = timed_execute(conn, case["raw"], case["params"])
                    conn.rollback()
                    if rowcount != case["size"]:
                        raise BenchError(f"{case['name']}: raw INSERT wrote {rowcount} rows, expected {case['size']}")
                    raw.append(seconds)
            case.update(api=median(api), raw=median(raw), delete=median(deletes))
    finally:
        client.close()
    vacuum(bench.url, "batch_element", "job", "batch", "historic_batch", "job_definition")

    for case in cases:
        ratio = case["api"] / case["raw"] if case["raw"] else float("inf")
        target = result = ""
        if case.get("largest"):
            target = "<= 2x raw (at 100k)" + (" [selection capped at N]" if case["capped"] else "")
            result = verdict(ratio <= 2.0)
        bench.add(3, f"create batch, {case['name']} (median of {repetitions})", fmt_seconds(case["api"]),
                  "raw INSERT ... SELECT into batch_element, rolled back", fmt_seconds(case["raw"]),
                  f"{ratio:.2f}x", target, result)
    bench.note(3, "Workers are stopped during this scenario; every batch created is deleted at once with "
                  f"DELETE /batch/{{id}}?cascade=true (median {fmt_seconds(median([c['delete'] for c in cases]))}). "
                  f"Slices of {invocations} ids. The raw baseline is the bare INSERT ... SELECT of the same "
                  "selection (same WHERE clause, or unnest of the same ids), timed without commit and rolled back.")


# =============================================================================================
# Scenario 5, first half: an unbounded GET /job, streamed
# =============================================================================================

def scenario_stream(bench):
    expected = scalar_url(bench.url, "SELECT count(*) FROM job")
    client = bench.client()
    state = {"bytes": 0, "objects": 0, "tail": b""}
    marker = b'{"id":'

    def on_chunk(chunk):
        state["bytes"] += len(chunk)
        # The previous chunk's last 5 bytes (too short to hold a whole marker) go in front, so
        # a marker split across two chunks is counted once.
        joined = state["tail"] + chunk
        state["objects"] += joined.count(marker)
        state["tail"] = joined[-(len(marker) - 1):]

    try:
        with bench.sampler.window() as window:
            status, seconds, first_byte = client.stream("GET", f"{REST}/job", on_chunk,
                                                        max_seconds=bench.args.stream_seconds)
    finally:
        client.close()
    if status != 200:
        raise BenchError(f"GET /job answered {status}")
    web = window.peaks.get("web", {})
    bench.memory["stream_web"] = web
    bench.add(5, f"unbounded GET /job: {state['objects']} objects, {state['bytes'] / MB:.1f} MB streamed",
              fmt_seconds(seconds), "jobs in the table", str(expected),
              target="every job once", result=verdict(state["objects"] == expected))
    bench.add(5, "unbounded GET /job: time to first byte", fmt_seconds(first_byte or float("nan")))
    memory_row(bench, "web during unbounded GET /job", web)


MEMORY_TARGET = 250 * MB


def memory_value(peak):
    return (f"largest process {fmt_mb(peak['max_process_rss'])} (main {fmt_mb(peak['root_rss'])}, largest child "
            f"{fmt_mb(peak['child_rss'])}); tree of {peak['processes']}: PSS {fmt_mb(peak['pss'])}, "
            f"RSS summed {fmt_mb(peak['rss'])}")


def memory_row(bench, figure, peak):
    """The 250 MB target holds per process: the largest RSS any single process of the tree
    reached (each pool child on its own). The tree's PSS is its real footprint; RSS summed
    over the tree counts the pages shared after fork several times and is shown only for
    comparison with earlier reports."""
    if not peak:
        bench.add(5, figure, "not sampled", result="ERROR")
        return
    target = "largest process RSS <= 250 MB" + ("" if bench.n >= 1_000_000 else " (target is set at 1M)")
    bench.add(5, figure, memory_value(peak), target=target, result=verdict(peak["max_process_rss"] <= MEMORY_TARGET))


def memory_notes(bench):
    bench.note(5, "Memory is sampled from /proc every 0.2 s. The target (250 MB each for web and worker) is "
                  "checked per process: the largest RSS of any single process of the tree (gunicorn arbiter "
                  "and each gunicorn worker; Celery main process and each pool child, counted individually). "
                  "The tree's PSS (proportional set size: each page shared after fork is split among the "
                  "processes sharing it) is the footprint of the whole process type; summing RSS over the "
                  "tree counts shared pages once per process and overstates it.")


def memory_flatness_rows(bench, previous):
    """Compare this run's peaks with a saved run at another N (100k vs 1M): per-process RSS
    and tree PSS, each within 1.2x."""
    if not previous:
        bench.add(5, "flat between 100k and 1M", "no saved run at another N to compare with",
                  target="<= 1.2x from 100k to 1M")
        return
    for figure, peak in sorted(bench.memory.items()):
        before = previous["memory"].get(figure)
        if not before or not peak or "max_process_rss" not in before:
            continue
        small, large = (before, peak) if previous["jobs"] < bench.n else (peak, before)
        n_small, n_large = sorted((previous["jobs"], bench.n))
        process_ratio = large["max_process_rss"] / small["max_process_rss"] if small["max_process_rss"] else 99.0
        pss_ratio = large["pss"] / small["pss"] if small["pss"] else 99.0
        bench.add(5, f"{figure}: N={n_large:,} vs N={n_small:,}, largest process RSS / tree PSS",
                  f"{fmt_mb(large['max_process_rss'])} / {fmt_mb(large['pss'])}",
                  f"N={n_small:,} (run of {previous['date']})",
                  f"{fmt_mb(small['max_process_rss'])} / {fmt_mb(small['pss'])}",
                  f"{process_ratio:.2f}x / {pss_ratio:.2f}x", "<= 1.2x each (flat)",
                  verdict(process_ratio <= 1.2 and pss_ratio <= 1.2))


# =============================================================================================
# Scenario 1: batch end-to-end against raw SQL on the same rows
# =============================================================================================

RAW_UPDATE = "UPDATE job SET retries = 3, revision = revision + 1 WHERE retries = 0"
# The same rows with an indexed column changed too (priority is in ix_job_acquisition): no
# update can be HOT, which is what a raw UPDATE costs on a schema whose updates are not HOT.
RAW_UPDATE_NON_HOT = ("UPDATE job SET retries = 3, revision = revision + 1, priority = priority + 1 "
                      "WHERE retries = 0")
SLICE_UPDATE = "UPDATE job SET retries = 3, revision = revision + 1 WHERE id = ANY(%s)"
SLICE_INCIDENT_DELETE = "DELETE FROM incident WHERE incident_type = 'failedJob' AND configuration = ANY(%s)"
TASK_LINE = re.compile(r"Task (executor\.\w+)\[[^\]]+\] succeeded in ([0-9.eE+-]+)s")


def _hot_share(before, after):
    updates = after[0] - before[0]
    hot = after[1] - before[1]
    return (hot / updates if updates else float("nan")), updates, hot


def _measure_with_counters(bench, expected_updates, function):
    """Run ``function`` on its own connection (closed afterwards, which flushes its statistics);
    returns (its result, HOT share, updates counted)."""
    before = table_update_counters(bench.url)
    result = function()
    after, settled = settled_update_counters(bench.url, before, expected_updates)
    share, updates, _ = _hot_share(before, after)
    return result, share, updates, settled


def _raw_update(url, sql, expected):
    with connection(url) as conn:
        seconds, rowcount = timed_execute(conn, sql)
        conn.rollback()
    if rowcount != expected:
        raise BenchError(f"raw UPDATE touched {rowcount} rows, expected {expected}")
    return seconds


def _sliced(url, slice_size, expected, with_incidents):
    """(b) / (d): fetch the ids, then per slice the UPDATE by id (and for (d) the DELETE of
    the slice's failedJob incidents), one connection, one transaction, rolled back.
    Returns (fetch seconds, update seconds, delete seconds, ids)."""
    with connection(url) as conn:
        fetch_seconds, rows = timed_execute(conn, "SELECT id FROM job WHERE retries = 0", fetch=True)
        ids = [row[0] for row in rows]
        update_seconds = delete_seconds = 0.0
        touched = deleted = 0
        with conn.cursor() as cursor:
            for offset in range(0, len(ids), slice_size):
                part = ids[offset:offset + slice_size]
                started = time.perf_counter()
                cursor.execute(SLICE_UPDATE, (part,))
                touched += cursor.rowcount
                update_seconds += time.perf_counter() - started
                if with_incidents:
                    started = time.perf_counter()
                    cursor.execute(SLICE_INCIDENT_DELETE, (part,))
                    deleted += cursor.rowcount
                    delete_seconds += time.perf_counter() - started
        conn.rollback()
    if touched != expected:
        raise BenchError(f"sliced UPDATE touched {touched} rows, expected {expected}")
    if with_incidents and deleted != expected:
        raise BenchError(f"sliced incident DELETE removed {deleted} rows, expected {expected}")
    return fetch_seconds, update_seconds, delete_seconds, ids


def _product_statements(bench, ids):
    """The SQL ``set_job_retries`` sends for one slice (parameters interpolated), rolled back."""
    from sqlalchemy import event

    from app.extensions import db
    from app.services.retries import set_job_retries

    captured = []

    def before(conn, cursor, statement, parameters, context, executemany):
        captured.append(cursor.mogrify(statement, parameters).decode())

    with bench.app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            set_job_retries(ids, 3)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    return [sql for sql in captured if sql.lstrip().upper().startswith(("UPDATE", "DELETE"))]


def explain_slice(bench, ids):
    """EXPLAIN (ANALYZE, BUFFERS, WAL) of one slice's UPDATE and incident DELETE, exactly as the
    product sends them, in one transaction that is rolled back. Returns [(statement head, plan)]."""
    plans = []
    with connection(bench.url) as conn:
        try:
            with conn.cursor() as cursor:
                for sql in _product_statements(bench, ids):
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, WAL) " + sql)
                    head = re.sub(r"ARRAY\[[^\]]*\]", f"ARRAY[<{len(ids)} ids>]", sql)
                    head = re.sub(r"\s+", " ", head)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    plans.append((head, re.sub(r"'\{[^}]*\}'", f"'{{<{len(ids)} ids>}}'", plan)))
        finally:
            conn.rollback()
    return plans


def log_offsets(stack):
    offsets = {}
    for worker in stack.workers:
        try:
            offsets[worker.name] = worker.log_path.stat().st_size
        except OSError:
            offsets[worker.name] = 0
    return offsets


def task_times(stack, offsets):
    """Celery's "Task ... succeeded in Xs" lines (INFO) written since ``offsets``: {task: [s]}."""
    times = {}
    for worker in stack.workers:
        try:
            with open(worker.log_path, errors="replace") as handle:
                handle.seek(offsets.get(worker.name, 0))
                text = handle.read()
        except OSError:
            continue
        for name, seconds in TASK_LINE.findall(text):
            times.setdefault(name, []).append(float(seconds))
    return times


def task_time_summary(times):
    parts = []
    for name in sorted(times):
        values = times[name]
        parts.append(f"{name} n={len(values)}, sum {fmt_seconds(sum(values))}, p50 {fmt_ms(median(values))}, "
                     f"max {fmt_ms(max(values))}")
    return "; ".join(parts) or "no task lines in the worker logs"


def _py_spy():
    from benchmarks.processes import VENV_BIN

    path = VENV_BIN / "py-spy"
    return str(path) if path.exists() else shutil.which("py-spy")


def _frame_key(frame):
    """``func (path:line)`` -> ``func (short path)``: lines merged, install prefixes cut."""
    from benchmarks.util import ROOT

    match = re.match(r"^(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    for marker in ("site-packages/", "/lib/python3.11/", f"{ROOT}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


WAITING_FRAME = "receive (billiard/pool.py)"  # a pool process waiting for its next task
# Library frames worth a line of their own: time in the database driver, commits, pool checks.
PROFILE_FRAMES = ("do_execute (sqlalchemy/engine/default.py)", "do_commit (sqlalchemy/engine/default.py)",
                  "do_ping (sqlalchemy/dialects/postgresql/_psycopg_common.py)",
                  "Session.commit (sqlalchemy/orm/session.py)", "send_task (celery/app/base.py)")


def summarise_profile(paths, top=30):
    """The py-spy raw (collapsed) files of the pool processes, together: the share of samples
    spent waiting for a task, then inclusive and self shares of the frames of the other
    (working) samples."""
    inclusive, own = {}, {}
    total = waiting = 0
    for path in paths:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            count = int(count)
            total += count
            frames = [_frame_key(frame) for frame in stack.split(";")]
            if any(frame.endswith(WAITING_FRAME) for frame in frames):
                waiting += count
                continue
            for key in set(frames):
                inclusive[key] = inclusive.get(key, 0) + count
            own[frames[-1]] = own.get(frames[-1], 0) + count
    working = total - waiting
    if not working:
        return total, f"{total} samples, none working"
    lines = [f"{total} samples at 100 Hz over all pool processes; {waiting} ({waiting / total:.0%}) waiting for a "
             f"task (billiard receive; includes the 0.5 s before the POST and the end), {working} working.",
             "", "inclusive, % of the working samples, the service's own functions and the database calls:"]
    ranked = sorted(inclusive.items(), key=lambda item: -item[1])
    lines += [f"  {count / working:6.1%}  {key}" for key, count in ranked
              if key.endswith(PROFILE_FRAMES) or re.search(r"\((app|workers|schemas)/", key)][:top]
    lines += ["", "self (leaf frames), % of the working samples:"]
    lines += [f"  {count / working:6.1%}  {key}" for key, count in sorted(own.items(), key=lambda item: -item[1])[:15]]
    return total, "\n".join(lines)


def profiled_batch(bench, ids, body, timeout):
    """Run the batch again on the same jobs (set back to 0 retries with their incidents) with
    ``py-spy record`` attached to every pool process; returns (outcome, profile text) or None
    when py-spy is not installed. Its time is not a measurement (py-spy shares the 2 cores)."""
    from benchmarks.processes import tree_pids

    py_spy = _py_spy()
    if py_spy is None:
        return None
    with connection(bench.url) as conn:
        datagen.restore_failed(conn, ids)
    vacuum(bench.url, "job", "incident")
    pids = []
    for worker in bench.stack.workers:
        pids += [pid for pid in tree_pids(worker.pid) if pid != worker.pid]
    recorders, paths = [], []
    for pid in pids:
        path = bench.work_dir / f"py-spy-{bench.n}-{pid}.txt"
        paths.append(path)
        log = open(bench.work_dir / f"py-spy-{bench.n}-{pid}.log", "w")
        recorders.append((subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", "100", "--format", "raw",
                                            "--idle", "--nonblocking", "--full-filenames", "-o", str(path)],
                                           stdout=log, stderr=subprocess.STDOUT), log))
    try:
        time.sleep(0.5)  # py-spy attaches
        client = bench.client()
        try:
            outcome = bench.run_batch(client, body, timeout)
        finally:
            client.close()
    finally:
        for process, log in recorders:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process, log in recorders:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()
    samples, text = summarise_profile(paths)
    return outcome, len(pids), text


def scenario_batch(bench):
    url = bench.url
    failed = scalar_url(url, "SELECT count(*) FROM job WHERE retries = 0")
    if not failed:
        raise BenchError("no job has 0 retries: nothing for the batch to do")
    slice_size = 1000

    # (a) one UPDATE of every failed job, rolled back.
    vacuum(url, "job", "incident")
    a_seconds, a_hot, _, _ = _measure_with_counters(bench, failed, lambda: _raw_update(url, RAW_UPDATE, failed))

    # (a') the same UPDATE, made non-HOT by also changing an indexed column, rolled back.
    vacuum(url, "job", "incident")
    a2_seconds, a2_hot, _, _ = _measure_with_counters(
        bench, failed, lambda: _raw_update(url, RAW_UPDATE_NON_HOT, failed))

    # (b) the same ids in slices of 1000, one connection, one transaction, rolled back.
    vacuum(url, "job", "incident")
    (b_fetch, b_update, _, ids), b_hot, _, _ = _measure_with_counters(
        bench, failed, lambda: _sliced(url, slice_size, failed, with_incidents=False))
    b_seconds = b_fetch + b_update

    # (d) (b) plus the DELETE of each slice's failedJob incidents, which the batch does and
    # (a) and (b) do not; one transaction, rolled back.
    vacuum(url, "job", "incident")
    (d_fetch, d_update, d_delete, _), _, _, _ = _measure_with_counters(
        bench, failed, lambda: _sliced(url, slice_size, failed, with_incidents=True))
    d_seconds = d_fetch + d_update + d_delete

    # (c) the product's own slice work (app.services.retries.set_job_retries: the UPDATE and
    # the incident deletion), same slices, in this process, rolled back.
    vacuum(url, "job", "incident")

    def product_slices():
        from sqlalchemy import text

        from app.extensions import db
        from app.services.retries import set_job_retries

        with bench.app.app_context():
            try:
                ids = [row[0] for row in db.session.execute(text("SELECT id FROM job WHERE retries = 0"))]
                started = time.perf_counter()
                updated = 0
                for offset in range(0, len(ids), slice_size):
                    updated += len(set_job_retries(ids[offset:offset + slice_size], 3).updated)
                seconds = time.perf_counter() - started
            finally:
                db.session.rollback()
                db.session.remove()
                db.engine.dispose()
        if updated != failed:
            raise BenchError(f"set_job_retries updated {updated} rows, expected {failed}")
        return seconds

    c_seconds, c_hot, _, _ = _measure_with_counters(bench, failed, product_slices)

    # One slice's statements, EXPLAIN (ANALYZE, BUFFERS, WAL), rolled back.
    vacuum(url, "job", "incident")
    plans = explain_slice(bench, ids[:slice_size])

    # The batch, over HTTP, with the workers running.
    vacuum(url, "job", "incident")
    body = {"retries": 3, "jobQuery": {"noRetriesLeft": True}}
    client = bench.client()
    try:
        bench.warm_up(client)
        offsets = log_offsets(bench.stack)
        before = table_update_counters(url)
        with bench.sampler.window() as window:
            outcome = bench.run_batch(client, body, batch_timeout(failed, failed))
        after, settled = settled_update_counters(url, before, failed)
    finally:
        client.close()
    times = task_times(bench.stack, offsets)
    batch_hot, batch_updates, _ = _hot_share(before, after)
    left = scalar_url(url, "SELECT count(*) FROM job WHERE retries = 0")
    incidents_left = scalar_url(url, "SELECT count(*) FROM incident WHERE incident_type = 'failedJob'")
    batch = outcome["batch"]
    seconds = outcome["seconds"]
    total_jobs = batch["totalJobs"]

    for name in sorted(window.peaks):
        bench.memory[f"batch_{name}"] = window.peaks[name]

    bench.add(1, f"batch end-to-end, {failed} jobs ({total_jobs} execution jobs of {batch['invocationsPerBatchJob']})",
              fmt_seconds(seconds), "(a) one raw UPDATE, rolled back", fmt_seconds(a_seconds),
              fmt_ratio(seconds, a_seconds), "<= 0.5x (a)", verdict(seconds <= 0.5 * a_seconds))
    bench.add(1, "batch end-to-end", fmt_seconds(seconds),
              "(b) ids fetched + slices of 1000 by id, one transaction, rolled back", fmt_seconds(b_seconds),
              fmt_ratio(seconds, b_seconds), "<= 1.2x (b)", verdict(seconds <= 1.2 * b_seconds))
    bench.add(1, "batch end-to-end", fmt_seconds(seconds),
              "(d) = (b) + each slice's incident DELETE, one transaction, rolled back", fmt_seconds(d_seconds),
              fmt_ratio(seconds, d_seconds))
    bench.add(1, "batch end-to-end", fmt_seconds(seconds),
              "(c) set_job_retries per slice in-process (product SQL + incidents), rolled back",
              fmt_seconds(c_seconds), fmt_ratio(seconds, c_seconds))
    bench.add(1, "batch end-to-end", fmt_seconds(seconds),
              "(a') the raw UPDATE made non-HOT (priority + 1 too), rolled back", fmt_seconds(a2_seconds),
              fmt_ratio(seconds, a2_seconds))
    to_execution, executing, server_total = server_phases(outcome["history"])
    bench.add(1, "batch creation (POST /job/retries response)", fmt_seconds(outcome["create_seconds"]))
    bench.add(1, "server clock: startTime -> executionStartTime -> endTime",
              f"{fmt_seconds(to_execution)} + {fmt_seconds(executing)} = {fmt_seconds(server_total)}")
    bench.add(1, "execution throughput", f"{total_jobs / seconds:.1f} execution jobs/s, {failed / seconds:.0f} rows/s",
              "(b) rows/s", f"{failed / b_seconds:.0f} rows/s", fmt_ratio(failed / seconds, failed / b_seconds))
    pool = _pool_processes(bench)
    busy = sum(sum(values) for values in times.values())
    bench.add(1, "worker task time during the batch (Celery log)", task_time_summary(times),
              "pool processes x (startTime -> endTime)", f"{pool} x {fmt_seconds(server_total)}",
              f"{busy / (pool * server_total):.0%} busy" if server_total else "n/a")
    bench.add(1, "HOT share of job updates during the batch",
              f"{batch_hot:.1%} of {batch_updates} updates" + ("" if settled else " (statistics not settled)"),
              "(a) / (a') / (b) / (c)", f"{a_hot:.1%} / {a2_hot:.1%} / {b_hot:.1%} / {c_hot:.1%}")
    bench.add(1, "check: jobs still at 0 retries / failedJob incidents left", f"{left} / {incidents_left}",
              target="0 / 0", result=verdict(left == 0 and incidents_left == 0))
    bench.note(1, f"(b) split: fetching the {failed} ids {fmt_seconds(b_fetch)}, updating "
                  f"{math.ceil(failed / slice_size)} slices {fmt_seconds(b_update)}. (d) split: fetch "
                  f"{fmt_seconds(d_fetch)}, UPDATEs {fmt_seconds(d_update)}, incident DELETEs "
                  f"{fmt_seconds(d_delete)}. (a), (a'), (b), (c) and (d) are rolled "
                  "back, so the batch then sees the same rows; VACUUM (not FULL) and CHECKPOINT run before each "
                  "of them and the batch. Their times exclude the COMMIT the batch pays per slice.")
    bench.note(1, "The batch's HOT share counts every update of `job` while it ran, including the lock "
                  f"updates of its own {total_jobs} execution jobs and its seed/monitor jobs.")
    bench.note(1, f"Worker task time: the \"Task ... succeeded in\" lines the workers log at INFO while the batch "
                  f"ran (seed, slices, monitor, acquisition rounds), against {pool} pool processes busy from "
                  "startTime to endTime.")
    bench.note(1, f"Batch {batch['id']}: startTime {outcome['history'].get('startTime')}, executionStartTime "
                  f"{outcome['history'].get('executionStartTime')}, endTime {outcome['history'].get('endTime')}, "
                  f"{outcome['polls']} polls at 0.1 s.")
    bench.note(1, "One slice as the product sends it (`set_job_retries` on the first "
                  f"{min(slice_size, len(ids))} failed ids), EXPLAIN (ANALYZE, BUFFERS, WAL), rolled back:")
    for head, plan in plans:
        bench.note(1, f"```\n{head[:300]}{' ...' if len(head) > 300 else ''}\n{plan}\n```")
    bench.facts["scenario1"] = {"a": a_seconds, "a_non_hot": a2_seconds, "b": b_seconds, "c": c_seconds,
                                "d": d_seconds, "d_delete": d_delete, "batch": seconds,
                                "to_execution": to_execution, "executing": executing,
                                "create": outcome["create_seconds"], "a_hot": a_hot, "a_non_hot_hot": a2_hot}

    if bench.args.profile:
        profiled = profiled_batch(bench, ids, body, batch_timeout(failed, failed))
        if profiled is None:
            bench.note(1, "py-spy is not installed (`.venv/bin/pip install py-spy`): no worker profile.")
        else:
            outcome, processes, text = profiled
            bench.add(1, "profiled re-run (py-spy on every pool process; not a measurement)",
                      fmt_seconds(outcome["seconds"]))
            bench.note(1, f"py-spy record of the {processes} pool processes during the profiled re-run of the same "
                          "batch (same jobs set back to 0 retries with incidents, VACUUM), frames merged over lines:")
            bench.note(1, f"```\n{text}\n```")


def _pool_processes(bench):
    from benchmarks.processes import procfile_setting

    concurrency = int(procfile_setting("WORKER_CONCURRENCY", bench.stack.env) or 1)
    return concurrency * len(bench.stack.workers)


# =============================================================================================
# Scenario 2: Camunda's defaults vs ours, on the same failed jobs
# =============================================================================================

CAMUNDA_DEFAULTS = {"INVOCATIONS_PER_BATCH_JOB": "1", "BATCH_JOBS_PER_SEED": "100",
                    "INVOCATIONS_PER_BATCH_JOB_BY_TYPE": ""}


def scenario_defaults(bench):
    url = bench.url
    with connection(url) as conn:
        failed_at_load = bench.facts.get("failed") or scalar(conn, "SELECT count(*) FROM job WHERE retries = 0")
        size = min(10000, failed_at_load)
        ids = [row[0] for row in _rows(conn, "SELECT id FROM job WHERE failed_activity_id IS NOT NULL "
                                             "ORDER BY id LIMIT %s", (size,))]
    size = len(ids)
    if not size:
        raise BenchError("no failed jobs to select")
    ours_label = (f"ours (invocations {bench.settings['INVOCATIONS_PER_BATCH_JOB']}, "
                  f"per seed {bench.settings['BATCH_JOBS_PER_SEED']})")
    runs = []
    # Ours first: it never profits from a cache the other run warmed.
    for label, env in ((ours_label, {}), ("Camunda defaults (invocations 1, per seed 100)", CAMUNDA_DEFAULTS)):
        bench.stop_stack()
        with connection(url) as conn:
            datagen.restore_failed(conn, ids)
        vacuum(url, "job", "incident")
        bench.start_stack(label, extra_env=env)
        client = bench.client()
        try:
            bench.warm_up(client)
            expected_invocations = int(env.get("INVOCATIONS_PER_BATCH_JOB") or
                                       bench.settings["INVOCATIONS_PER_BATCH_JOB"])
            outcome = bench.run_batch(client, {"retries": 3, "jobIds": ids},
                                      batch_timeout(size, math.ceil(size / expected_invocations)))
        finally:
            client.close()
            bench.stop_stack()
        if outcome["batch"]["invocationsPerBatchJob"] != expected_invocations:
            raise BenchError(f"{label}: the web reported invocationsPerBatchJob "
                             f"{outcome['batch']['invocationsPerBatchJob']}, expected {expected_invocations}")
        left = scalar_url(url, "SELECT count(*) FROM job WHERE id = ANY(%s) AND retries = 0", (ids,))
        runs.append((label, outcome, left))
    (ours, ours_outcome, ours_left), (camunda, camunda_outcome, camunda_left) = runs
    for label, outcome, left in runs:
        total_jobs = outcome["batch"]["totalJobs"]
        bench.add(2, f"{label}: {size} jobs, {total_jobs} execution jobs",
                  f"{fmt_seconds(outcome['seconds'])} ({total_jobs / outcome['seconds']:.1f} execution jobs/s, "
                  f"{size / outcome['seconds']:.0f} rows/s)",
                  target="all updated", result=verdict(left == 0))
    bench.add(2, "ours vs Camunda's defaults, end-to-end", fmt_seconds(ours_outcome["seconds"]),
              camunda, fmt_seconds(camunda_outcome["seconds"]),
              fmt_ratio(ours_outcome["seconds"], camunda_outcome["seconds"]), "ours faster (< 1x)",
              verdict(ours_outcome["seconds"] < camunda_outcome["seconds"]))
    bench.note(2, f"The {size} jobs: the first {size} ids (by id) of the jobs that failed at load; before each run "
                  "they are set back to 0 retries with a failedJob incident each, then VACUUM and CHECKPOINT; "
                  "web and workers are restarted with the run's settings (a fresh queue each). "
                  "Selection by jobIds. Ours runs first.")


# =============================================================================================
# Scenario 6: executor throughput and latency
# =============================================================================================

NOOP_INSERT = """
INSERT INTO job (id, revision, type, handler_type, retries, suspended, priority, create_time)
SELECT gen_random_uuid()::text, 1, 'message', 'demo.noop', 3, false, 0,
       date_trunc('milliseconds', now() AT TIME ZONE 'UTC')
FROM generate_series(1, %s)
"""


def scenario_executor(bench):
    url = bench.url
    count = bench.args.noop_jobs
    bench.start_stack("executor (our defaults)")
    stack = bench.stack
    timeout = bench.args.noop_seconds
    with connection(url, autocommit=True) as conn:
        with conn.cursor() as cursor:
            cursor.execute(NOOP_INSERT, (count,))
        committed = time.perf_counter()
        stack.send_acquire_hint()
        first_done = None
        remaining = count
        deadline = time.monotonic() + timeout
        with bench.sampler.window() as window:
            for index in range(int(timeout / 0.1) + 2):
                remaining = scalar(conn, "SELECT count(*) FROM job WHERE handler_type = 'demo.noop'")
                now = time.perf_counter()
                if first_done is None and remaining < count:
                    first_done = now
                if remaining == 0 or time.monotonic() > deadline:
                    break
                if index % 50 == 0:
                    stack.check_alive()
                time.sleep(0.1)
        finished = time.perf_counter()
    if remaining:
        raise BenchError(f"{remaining} of {count} demo.noop jobs still there after {timeout:.0f} s "
                         "(JOB_DEMO_HANDLERS off?)")
    seconds = finished - committed
    bench.add(6, f"{count} demo.noop jobs, insert to all done",
              f"{fmt_seconds(seconds)} ({count / seconds:.0f} jobs/s)")
    if first_done is not None:
        busy = finished - first_done
        bench.add(6, "first job done to all done", f"{fmt_seconds(busy)} ({count / busy:.0f} jobs/s)")
    for name in sorted(window.peaks):
        bench.memory[f"executor_{name}"] = window.peaks[name]
        bench.add(6, f"{name}: peak memory during the run", memory_value(window.peaks[name]))

    # Latency: one job at a time on an idle system.
    time.sleep(1.0)
    client = bench.client()
    latencies, responses = [], []
    done_before_response = 0
    try:
        with connection(url, autocommit=True) as conn:
            for _ in range(bench.args.latency_samples):
                time.sleep(0.5)
                started = time.perf_counter()
                response = client.request("POST", "/api/jobs", [{"handlerType": "demo.noop"}], retry=False)
                created = response.expect(201).json()
                responses.append(response.seconds)
                if not created:
                    # The service reads the new jobs back after its commit; a worker that already
                    # ran and deleted the job leaves that list empty. Done before the response:
                    # the response time is an upper bound of creation -> done.
                    done_before_response += 1
                    latencies.append(response.seconds)
                    continue
                job_id = created[0]["id"]
                gone = None
                for _ in range(6000):  # 30 s at 5 ms
                    if not scalar(conn, "SELECT 1 FROM job WHERE id = %s", (job_id,)):
                        gone = time.perf_counter()
                        break
                    if time.perf_counter() - started > 30:
                        break
                    time.sleep(0.005)
                if gone is None:
                    raise BenchError(f"demo.noop job {job_id} was not done within 30 s")
                latencies.append(gone - started)
    finally:
        client.close()
        bench.stop_stack()
    bench.add(6, f"creation to done, 1 job at a time (n={len(latencies)}): p50 / p95",
              f"{fmt_ms(percentile(latencies, 0.5))} / {fmt_ms(percentile(latencies, 0.95))}",
              "POST /api/jobs response p50", fmt_ms(percentile(responses, 0.5)))
    bench.note(6, f"Throughput: {count} jobs inserted by one INSERT ... SELECT, then one executor.acquire hint "
                  "sent (what the web sends after a commit); the job count is polled every 0.1 s. Latency: "
                  "POST /api/jobs with one demo.noop job, then polled by id every 5 ms until deleted, "
                  "0.5 s apart. Celery logs at the Procfile's level (INFO).")
    if done_before_response:
        bench.note(6, f"In {done_before_response} of {len(latencies)} latency samples POST /api/jobs answered "
                      "201 with an empty list: the worker had executed and deleted the job before the web read "
                      "it back after its commit (app/api/ingest.py lists the created ids after create_jobs), so "
                      "the client never learns the new job's id. Those samples count the response time.")


# =============================================================================================
# Scenario 7: the curve (slice size, seed size, worker concurrency, pool size)
# =============================================================================================

CURVE_ROWS = 100_000  # the curve revives the failed jobs among the first 100k generated rows
CURVE_INVOCATIONS = (100, 250, 500, 1000, 2500, 5000)
CURVE_PER_SEED = (10, 100, 1000)
CURVE_CONCURRENCY = (1, 2, 4)
CURVE_POOL_SIZES = (2, 5)
CURVE_DEFAULTS = {"INVOCATIONS_PER_BATCH_JOB": 1000, "BATCH_JOBS_PER_SEED": 100, "WORKER_CONCURRENCY": 2,
                  "DB_POOL_SIZE": 5}
CURVE_SHORT = {"INVOCATIONS_PER_BATCH_JOB": "invocations", "BATCH_JOBS_PER_SEED": "per seed",
               "WORKER_CONCURRENCY": "concurrency", "DB_POOL_SIZE": "pool"}


def _curve_label(settings):
    return ", ".join(f"{CURVE_SHORT[key]} {settings[key]}" for key in CURVE_DEFAULTS)


def _curve_point(bench, ids, settings, repetitions):
    """Restart web and workers with ``settings`` (environment), then ``repetitions`` times: the
    jobs back to 0 retries with their incidents, VACUUM + CHECKPOINT, the batch end to end."""
    url = bench.url
    env = {key: str(value) for key, value in settings.items()}
    env["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = ""
    invocations = settings["INVOCATIONS_PER_BATCH_JOB"]
    body = {"retries": 3, "jobQuery": {"noRetriesLeft": True}}
    timeout = batch_timeout(len(ids), math.ceil(len(ids) / invocations))
    bench.stop_stack()
    runs = []
    bench.start_stack(_curve_label(settings), extra_env=env)
    client = bench.client()
    try:
        bench.warm_up(client)
        with bench.sampler.window() as window:
            for _ in range(repetitions):
                with connection(url) as conn:
                    datagen.restore_failed(conn, ids)
                vacuum(url, "job", "incident")
                outcome = bench.run_batch(client, body, timeout)
                batch = outcome["batch"]
                if batch["invocationsPerBatchJob"] != invocations or batch["batchJobsPerSeed"] != \
                        settings["BATCH_JOBS_PER_SEED"]:
                    raise BenchError(f"{_curve_label(settings)}: the web reported invocationsPerBatchJob "
                                     f"{batch['invocationsPerBatchJob']}, batchJobsPerSeed {batch['batchJobsPerSeed']}")
                if batch["totalJobs"] != math.ceil(len(ids) / invocations):
                    raise BenchError(f"{_curve_label(settings)}: {batch['totalJobs']} execution jobs for {len(ids)} "
                                     "jobs; another job is at 0 retries")
                left = scalar_url(url, "SELECT count(*) FROM job WHERE id = ANY(%s) AND retries = 0", (ids,))
                if left:
                    raise BenchError(f"{_curve_label(settings)}: {left} jobs still at 0 retries after the batch")
                to_execution, executing, _ = server_phases(outcome["history"])
                runs.append({"seconds": outcome["seconds"], "create": outcome["create_seconds"],
                             "to_execution": to_execution, "executing": executing, "jobs": batch["totalJobs"]})
    finally:
        client.close()
        bench.stop_stack()
    workers = [peak for name, peak in window.peaks.items() if name.startswith("worker")]
    return {"settings": dict(settings), "runs": runs, "seconds": median([run["seconds"] for run in runs]),
            "worker_rss": max((peak["max_process_rss"] for peak in workers), default=0),
            "worker_pss": max((peak["pss"] for peak in workers), default=0)}


def scenario_curve(bench):
    url = bench.url
    started = time.monotonic()
    repetitions = bench.args.curve_repetitions
    with connection(url) as conn:
        ids = datagen.failed_at_load(conn, min(bench.n, CURVE_ROWS))
        # Only these jobs may be at 0 retries (noRetriesLeft selects them): at N > 100k the
        # other failed jobs are revived once, with their incidents removed.
        with conn.cursor() as cursor:
            cursor.execute("SELECT id FROM job WHERE retries = 0 AND NOT (id = ANY(%s))", (ids,))
            others = [row[0] for row in cursor.fetchall()]
            if others:
                cursor.execute("UPDATE job SET retries = 3, revision = revision + 1 WHERE id = ANY(%s)", (others,))
                cursor.execute(SLICE_INCIDENT_DELETE, (others,))
        conn.commit()
    if not ids:
        raise BenchError("no failed jobs for the curve")
    points = {}  # settings tuple -> point
    stages = []  # (stage name, varied key, [points])

    def measure(stage, key, values, base):
        measured = []
        for value in values:
            settings = dict(base, **{key: value})
            index = tuple(settings[name] for name in CURVE_DEFAULTS)
            point = points.get(index)
            if point is None:
                point = _curve_point(bench, ids, settings, repetitions)
                point["stage"] = stage
                points[index] = point
                runs = ", ".join(fmt_seconds(run["seconds"]) for run in point["runs"])
                bench.add(7, f"{stage}: {_curve_label(settings)} ({point['runs'][0]['jobs']} execution jobs)",
                          f"{fmt_seconds(point['seconds'])} ({len(ids) / point['seconds']:.0f} rows/s)",
                          f"runs (median of {repetitions})", runs)
            measured.append(point)
        best = min(measured, key=lambda point: point["seconds"])
        stages.append((stage, key, measured, best))
        return dict(base, **{key: best["settings"][key]})

    base = dict(CURVE_DEFAULTS)
    base = measure("1 slice size", "INVOCATIONS_PER_BATCH_JOB", CURVE_INVOCATIONS, base)
    base = measure("2 seed size", "BATCH_JOBS_PER_SEED", CURVE_PER_SEED, base)
    base = measure("3 worker concurrency", "WORKER_CONCURRENCY", CURVE_CONCURRENCY, base)
    if bench.args.curve_pool:
        base = measure("4 pool size", "DB_POOL_SIZE", CURVE_POOL_SIZES, base)
    default = points[tuple(CURVE_DEFAULTS[name] for name in CURVE_DEFAULTS)]
    elapsed = time.monotonic() - started

    lines = ["| stage | invocationsPerBatchJob | batchJobsPerSeed | WORKER_CONCURRENCY | DB_POOL_SIZE | execution jobs "
             "| runs | median | rows/s | POST response | start -> executionStart | execution | vs current default "
             "| largest worker process RSS | worker tree PSS |",
             "|" + "---|" * 15]
    for stage, key, measured, best in stages:
        for point in measured:
            settings = point["settings"]
            runs = point["runs"]
            mark = " **fastest**" if point is best else ""
            again = "" if point["stage"] == stage else f" (as in stage {point['stage'].split()[0]})"
            lines.append(
                f"| {stage}{again} | {settings['INVOCATIONS_PER_BATCH_JOB']} | {settings['BATCH_JOBS_PER_SEED']} "
                f"| {settings['WORKER_CONCURRENCY']} | {settings['DB_POOL_SIZE']} | {runs[0]['jobs']} "
                f"| {', '.join(fmt_seconds(run['seconds']) for run in runs)} | {fmt_seconds(point['seconds'])}{mark} "
                f"| {len(ids) / point['seconds']:.0f} "
                f"| {fmt_seconds(median([run['create'] for run in runs]))} "
                f"| {fmt_seconds(median([run['to_execution'] or 0 for run in runs]))} "
                f"| {fmt_seconds(median([run['executing'] or 0 for run in runs]))} "
                f"| {fmt_ratio(point['seconds'], default['seconds'])} "
                f"| {fmt_mb(point['worker_rss'])} | {fmt_mb(point['worker_pss'])} |")
    fastest = min(points.values(), key=lambda point: point["seconds"])
    for stage, key, measured, best in stages:
        bench.add(7, f"fastest of stage {stage}", f"{key} = {best['settings'][key]}: {fmt_seconds(best['seconds'])}",
                  "current default point", fmt_seconds(default["seconds"]),
                  fmt_ratio(best["seconds"], default["seconds"]))
    bench.add(7, "fastest point overall", f"{_curve_label(fastest['settings'])}: {fmt_seconds(fastest['seconds'])}",
              "current defaults", f"{_curve_label(default['settings'])}: {fmt_seconds(default['seconds'])}",
              fmt_ratio(fastest["seconds"], default["seconds"]))
    bench.add(7, "curve runtime", fmt_seconds(elapsed), result="")
    bench.curve = {"lines": lines, "jobs": len(ids), "rows": min(bench.n, CURVE_ROWS), "elapsed": elapsed,
                   "repetitions": repetitions, "fastest": fastest, "default": default,
                   "stages": [(stage, key, best["settings"][key], best["seconds"]) for stage, key, _, best in stages]}
    bench.note(7, f"The {len(ids)} jobs that failed at load among the first {min(bench.n, CURVE_ROWS):,} generated "
                  "rows (datagen.failed_at_load), selected as in scenario 1 by `noRetriesLeft`; "
                  + (f"the other {len(others)} jobs at 0 retries were revived once first (N > 100k). "
                     if others else "")
                  + f"Web and workers ({WORKER_COUNT} worker processes as in the "
                  "Procfile) restart for every point with its settings in the environment; then, "
                  f"{repetitions} times: the jobs back to 0 retries with one failedJob incident each "
                  "(datagen.restore_failed), VACUUM + CHECKPOINT, POST /job/retries, GET /history/batch/{id} every "
                  "0.1 s until endTime. Each stage keeps the fastest value of the stages before it; a point "
                  "already measured is not measured again. Stage 4 varies DB_POOL_SIZE of web and workers "
                  "(DB_MAX_OVERFLOW stays 5). The memory columns are the peaks over the point's runs.")
    per_seed_stage = next((measured for stage, key, measured, _ in stages if key == "BATCH_JOBS_PER_SEED"), [])
    if per_seed_stage and per_seed_stage[0]["runs"][0]["jobs"] <= min(CURVE_PER_SEED):
        bench.note(7, f"At the slice size of stage 2 the batch has {per_seed_stage[0]['runs'][0]['jobs']} execution "
                      f"jobs, no more than the smallest seed size ({min(CURVE_PER_SEED)}): one seed run creates them "
                      "all whatever batchJobsPerSeed is, so stage 2 shows only noise here; the seed size matters "
                      "when a batch has more execution jobs than batchJobsPerSeed (at N = 1M, 10x as many).")
    bench.note(7, "The first batch after a restart runs on cold pool processes (first connection, SQLAlchemy's "
                  "statement cache empty) and is often the slowest of a point's runs; the median takes the "
                  "typical one.")
    bench.note(7, "\n".join(lines))
