"""The six scenarios. Each adds rows (figure, value, baseline, ratio, target, PASS/FAIL) to the
:class:`Bench`; every baseline is measured in the same run, on the same data.

Order (``benchmarks.run`` drives it): web only (no worker, so nothing executes) for 4, 3 and
the streaming half of 5; then the workers join for 1 (which also gives 5 its worker and web
peaks); then 2 and 6, each with its own restart of web and workers.
"""

import json
import math
import threading
import time
from dataclasses import dataclass

from benchmarks import datagen
from benchmarks.processes import Stack
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
    5: "Memory: peak RSS of the web and worker process trees",
    6: "Executor: demo.noop throughput and creation-to-done latency",
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

    bench.note(4, f"Jobs in the table: {total}. Each query: {args.query_repetitions} requests at most "
                  f"(fewer when one query passes {args.query_seconds:.0f} s), after 3 warm-up requests; "
                  "the baseline is the SQL the service issues for the same request (captured from "
                  "SQLAlchemy, parameters interpolated), run alone through psycopg2 with all rows fetched.")
    for spec in specs:
        _query_rows(bench, spec, total)


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
    memory_row(bench, "web tree peak RSS during unbounded GET /job", web)


def memory_row(bench, figure, peak):
    if not peak:
        bench.add(5, figure, "not sampled", result="ERROR")
        return
    value = (f"{fmt_mb(peak['rss'])} (PSS {fmt_mb(peak['pss'])}, {peak['processes']} processes, "
             f"largest {fmt_mb(peak['max_process_rss'])})")
    target = "<= 250 MB" + ("" if bench.n >= 1_000_000 else " (target is set at 1M)")
    bench.add(5, figure, value, target=target, result=verdict(peak["rss"] <= 250 * MB))


def memory_flatness_rows(bench, previous):
    """Compare this run's peaks with a saved run at another N (100k vs 1M)."""
    if not previous:
        bench.add(5, "flat between 100k and 1M", "no saved run at another N to compare with",
                  target="<= 1.2x from 100k to 1M")
        return
    for figure, peak in sorted(bench.memory.items()):
        before = previous["memory"].get(figure)
        if not before or not peak:
            continue
        small, large = (before, peak) if previous["jobs"] < bench.n else (peak, before)
        ratio = large["rss"] / small["rss"] if small["rss"] else float("inf")
        n_small, n_large = sorted((previous["jobs"], bench.n))
        bench.add(5, f"{figure}: peak RSS N={n_large} vs N={n_small}", fmt_mb(large["rss"]),
                  f"N={n_small} (run of {previous['date']})", fmt_mb(small["rss"]), f"{ratio:.2f}x",
                  "<= 1.2x (flat)", verdict(ratio <= 1.2))


# =============================================================================================
# Scenario 1: batch end-to-end against raw SQL on the same rows
# =============================================================================================

RAW_UPDATE = "UPDATE job SET retries = 3, revision = revision + 1 WHERE retries = 0"
SLICE_UPDATE = "UPDATE job SET retries = 3, revision = revision + 1 WHERE id = ANY(%s)"


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


def scenario_batch(bench):
    url = bench.url
    failed = scalar_url(url, "SELECT count(*) FROM job WHERE retries = 0")
    if not failed:
        raise BenchError("no job has 0 retries: nothing for the batch to do")
    slice_size = 1000

    # (a) one UPDATE of every failed job, rolled back.
    vacuum(url, "job", "incident")

    def raw_update():
        with connection(url) as conn:
            seconds, rowcount = timed_execute(conn, RAW_UPDATE)
            conn.rollback()
        if rowcount != failed:
            raise BenchError(f"raw UPDATE touched {rowcount} rows, expected {failed}")
        return seconds

    a_seconds, a_hot, _, _ = _measure_with_counters(bench, failed, raw_update)

    # (b) the same ids in slices of 1000, one connection, one transaction, rolled back.
    vacuum(url, "job", "incident")

    def sliced_update():
        with connection(url) as conn:
            fetch_seconds, rows = timed_execute(conn, "SELECT id FROM job WHERE retries = 0", fetch=True)
            ids = [row[0] for row in rows]
            started = time.perf_counter()
            touched = 0
            with conn.cursor() as cursor:
                for offset in range(0, len(ids), slice_size):
                    cursor.execute(SLICE_UPDATE, (ids[offset:offset + slice_size],))
                    touched += cursor.rowcount
            update_seconds = time.perf_counter() - started
            conn.rollback()
        if touched != failed:
            raise BenchError(f"sliced UPDATE touched {touched} rows, expected {failed}")
        return fetch_seconds, update_seconds

    (b_fetch, b_update), b_hot, _, _ = _measure_with_counters(bench, failed, sliced_update)
    b_seconds = b_fetch + b_update

    # (c) the product's own slice work (app.services.retries.set_job_retries: the locking CTE
    # UPDATE and the incident deletion), same slices, in this process, rolled back.
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

    # The batch, over HTTP, with the workers running.
    vacuum(url, "job", "incident")
    client = bench.client()
    try:
        bench.warm_up(client)
        before = table_update_counters(url)
        with bench.sampler.window() as window:
            outcome = bench.run_batch(client, {"retries": 3, "jobQuery": {"noRetriesLeft": True}},
                                      batch_timeout(failed, failed))
        after, settled = settled_update_counters(url, before, failed)
    finally:
        client.close()
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
              "(c) set_job_retries per slice in-process (product SQL + incidents), rolled back",
              fmt_seconds(c_seconds), fmt_ratio(seconds, c_seconds))
    to_execution, executing, server_total = server_phases(outcome["history"])
    bench.add(1, "batch creation (POST /job/retries response)", fmt_seconds(outcome["create_seconds"]))
    bench.add(1, "server clock: startTime -> executionStartTime -> endTime",
              f"{fmt_seconds(to_execution)} + {fmt_seconds(executing)} = {fmt_seconds(server_total)}")
    bench.add(1, "execution throughput", f"{total_jobs / seconds:.1f} execution jobs/s, {failed / seconds:.0f} rows/s",
              "(b) rows/s", f"{failed / b_seconds:.0f} rows/s", fmt_ratio(failed / seconds, failed / b_seconds))
    bench.add(1, "HOT share of job updates during the batch",
              f"{batch_hot:.1%} of {batch_updates} updates" + ("" if settled else " (statistics not settled)"),
              "(b) / (a) / (c)", f"{b_hot:.1%} / {a_hot:.1%} / {c_hot:.1%}")
    bench.add(1, "check: jobs still at 0 retries / failedJob incidents left", f"{left} / {incidents_left}",
              target="0 / 0", result=verdict(left == 0 and incidents_left == 0))
    bench.note(1, f"(b) split: fetching the {failed} ids {fmt_seconds(b_fetch)}, updating "
                  f"{math.ceil(failed / slice_size)} slices {fmt_seconds(b_update)}. (a), (b) and (c) are rolled "
                  "back, so the batch then sees the same rows; VACUUM (not FULL) and CHECKPOINT run before each "
                  "of (a), (b), (c) and the batch. Their times exclude the COMMIT the batch pays per slice.")
    bench.note(1, "The batch's HOT share counts every update of `job` while it ran, including the lock "
                  f"updates of its own {total_jobs} execution jobs and its seed/monitor jobs.")
    bench.note(1, f"Batch {batch['id']}: startTime {outcome['history'].get('startTime')}, endTime "
                  f"{outcome['history'].get('endTime')}, {outcome['polls']} polls at 0.1 s.")


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
        peak = window.peaks[name]
        bench.add(6, f"{name} tree peak RSS during the run", f"{fmt_mb(peak['rss'])} (PSS {fmt_mb(peak['pss'])})")

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
