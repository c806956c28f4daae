"""Scenario 4: job queries over HTTP against the same SQL alone, 1 and 4 clients, and keyset
paging at the deepest page against ``firstResult`` at the same depth.

The SQL of each request is captured once from a web process started behind the SQL tap
(benchmarks.sqltap), then the timings run against the ordinary web (web only: no worker).
"""

import json
import re
import threading
import time
from datetime import timedelta

from benchmarks.client import REST, HttpClient
from benchmarks.common import BenchError, bounded_samples, fmt_date, fmt_ms, fmt_ratio, percentile, verdict
from benchmarks.db import connect, connection, rows, scalar, scalar_at, timed_execute
from benchmarks.processes import Stack
from benchmarks.sqltap import SqlTap

KEY = "4"
TITLE = "Job query (POST /job maxResults=50, POST /job/count)"
STACK = "web"
JOB_STATEMENT = re.compile(r"\bFROM job\b")


def query_specs(bench):
    anchor = bench.facts["anchor"]
    with connection(bench.url) as conn:
        instance = scalar(conn, "SELECT process_instance_id FROM job WHERE id = md5('bench-job-' || %s)::uuid::text",
                          (max(1, bench.n // 2),))
        keys = [row[0] for row in rows(conn, "SELECT process_definition_key FROM job WHERE process_definition_key "
                                             "IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1")]
        activity = scalar(conn, "SELECT min(activity_id) FROM job_definition WHERE process_definition_key = %s",
                          (keys[min(5, len(keys) - 1)],))
    deep = min(10000, max(0, bench.n - 50))
    day = [anchor - timedelta(hours=12), anchor + timedelta(hours=12)]
    created = [anchor - timedelta(hours=36), anchor - timedelta(hours=12)]
    return [
        {"name": "processInstanceId", "body": {"processInstanceId": instance}},
        {"name": "processDefinitionKey (rarest key)", "body": {"processDefinitionKey": keys[-1]}},
        {"name": "3 filters + 2-level sort",
         "body": {"processDefinitionKey": keys[0], "tenantIdIn": ["tenant-3"], "withException": True,
                  "sorting": [{"sortBy": "jobPriority", "sortOrder": "desc"},
                              {"sortBy": "jobDueDate", "sortOrder": "asc"}]}},
        {"name": "tenantIdIn", "body": {"tenantIdIn": ["tenant-3"]}},
        {"name": "noRetriesLeft", "body": {"noRetriesLeft": True}},
        {"name": "dueDates range (24 h)", "body": {"dueDates": _range(day)}},
        {"name": "createTimes range (24 h)", "body": {"createTimes": _range(created)}},
        {"name": "priority range 50..60", "body": {"priorityHigherThanOrEquals": 50, "priorityLowerThanOrEquals": 60}},
        {"name": "activityId", "body": {"activityId": activity}},
        {"name": f"deep page firstResult={deep}", "body": {}, "first_result": deep, "deep": True},
    ]


def _range(bounds):
    return [{"operator": "gt", "value": fmt_date(bounds[0])}, {"operator": "lt", "value": fmt_date(bounds[1])}]


def capture_sql(bench, specs):
    """Each spec's list and count SQL, as a web process sends it (parameters interpolated)."""
    with SqlTap(bench.url) as tap:
        stack = Stack(tap.url, bench.redis_url, bench.work_dir, "web behind the SQL tap").start(workers=False)
        client = HttpClient(stack.port)
        try:
            for spec in specs:
                first = spec.get("first_result")
                spec["list_path"] = f"{REST}/job?maxResults=50" + (f"&firstResult={first}" if first else "")
                for kind, path in (("list", spec["list_path"]), ("count", f"{REST}/job/count")):
                    tap.take()
                    client.request("POST", path, spec["body"]).expect(200)
                    statements = [sql for sql in tap.take() if JOB_STATEMENT.search(sql)]
                    if len(statements) != 1:
                        raise BenchError(f"{spec['name']}: expected one job statement, captured {statements}")
                    spec[f"{kind}_sql"] = statements[0]
        finally:
            client.close()
            stack.stop()


def plan_summary(plan):
    """(outline, seq scans on job, estimated rows at the job scan) of an EXPLAIN JSON plan."""
    outline, seq_scans, estimates = [], [], []

    def walk(node, depth):
        label = node["Node Type"] + "".join(f" {word} {node[key]}" for word, key in
                                            (("using", "Index Name"), ("on", "Relation Name")) if node.get(key))
        outline.append(f"{'  ' * depth}{label} (est. {node.get('Plan Rows')} rows)")
        if node.get("Relation Name") == "job" and "Scan" in node["Node Type"]:
            estimates.append(node.get("Plan Rows", 0))
            if "Seq Scan" in node["Node Type"]:
                seq_scans.append(node)
        for child in node.get("Plans", ()):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    return outline, seq_scans, max(estimates) if estimates else None


def explain_and_check(bench, specs, sql_conn, client):
    """Count and plans from the SQL; 3 warm-up requests that also check HTTP answers what SQL does."""
    for spec in specs:
        with sql_conn.cursor() as cursor:
            cursor.execute(spec["count_sql"])
            spec["count"] = cursor.fetchone()[0]
            for kind in ("list", "count"):
                cursor.execute("EXPLAIN (FORMAT JSON) " + spec[f"{kind}_sql"])
                plan = cursor.fetchone()[0]
                spec[f"{kind}_plan"] = plan_summary(plan[0] if isinstance(plan, list) else json.loads(plan)[0])
        for _ in range(3):
            listed = client.request("POST", spec["list_path"], spec["body"]).expect(200).json()
            counted = client.request("POST", f"{REST}/job/count", spec["body"]).expect(200).json()
            timed_execute(sql_conn, spec["list_sql"], fetch=True)
        if counted.get("count") != spec["count"]:
            raise BenchError(f"{spec['name']}: /job/count says {counted} but the SQL counts {spec['count']}")
        if len(listed) != min(50, max(0, spec["count"] - (spec.get("first_result") or 0))):
            raise BenchError(f"{spec['name']}: /job returned {len(listed)} rows")


def time_one_client(bench, specs, sql_conn, client):
    """1 client over HTTP, then the same SQL alone through psycopg2, per query and kind."""
    repetitions, seconds = bench.args.query_repetitions, bench.args.query_seconds
    for spec in specs:
        for kind, path in (("list", spec["list_path"]), ("count", f"{REST}/job/count")):
            statement = spec[f"{kind}_sql"]
            spec[f"{kind}_http"] = bounded_samples(
                lambda: client.request("POST", path, spec["body"]).expect(200).seconds, repetitions, seconds)
            spec[f"{kind}_alone"] = bounded_samples(
                lambda: timed_execute(sql_conn, statement, fetch=True)[0], repetitions, seconds)


def concurrent_queries(bench, specs, clients):
    """``clients`` threads, each with its own keep-alive connection, cycling through the list
    and count requests of every query, bounded by rounds and by time."""
    deadline = time.monotonic() + bench.args.concurrent_seconds
    lock = threading.Lock()
    errors = []
    for spec in specs:
        spec["list_http4"], spec["count_http4"] = [], []

    def one_client(offset):
        client = bench.client()
        try:
            for index in range(bench.args.concurrent_rounds * len(specs)):
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

    threads = [threading.Thread(target=one_client, args=(k * len(specs) // clients,), daemon=True)
               for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=bench.args.concurrent_seconds + 120)
    if any(thread.is_alive() for thread in threads):
        raise BenchError("a query client thread did not finish in time")
    if errors:
        raise errors[0]


def keyset_pages(bench, client):
    """Our keyset paging at the deepest page against ``firstResult`` at the same depth: the
    token is the ``X-Next-Page-Token`` of the page just before (p99 <= 50 ms at any depth)."""
    depth = max(50, bench.n - 100)
    by_priority = {"sorting": [{"sortBy": "jobPriority", "sortOrder": "desc"}]}
    orders = (("default order (id)", {}), ("jobPriority desc", by_priority))
    for name, body in orders:
        before = client.request("POST", f"{REST}/job?maxResults=50&firstResult={depth - 50}", body).expect(200)
        token = {key.lower(): value for key, value in before.headers.items()}.get("x-next-page-token")
        if not token:
            raise BenchError(f"keyset {name}: the page before row {depth} carries no X-Next-Page-Token")
        keyset_path = f"{REST}/job?maxResults=50&pageToken={token}"
        offset_path = f"{REST}/job?maxResults=50&firstResult={depth}"
        keyset_page = client.request("POST", keyset_path, body).expect(200).json()
        offset_page = client.request("POST", offset_path, body).expect(200).json()
        if [job["id"] for job in keyset_page] != [job["id"] for job in offset_page]:
            raise BenchError(f"keyset page {name} differs from the firstResult page at {depth}")
        keyset, offset = (bounded_samples(lambda: client.request("POST", path, body).expect(200).seconds,
                                          bench.args.query_repetitions, bench.args.query_seconds)
                          for path in (keyset_path, offset_path))
        _keyset_row(bench, name, depth, keyset, offset)


def _keyset_row(bench, name, depth, keyset, offset):
    p50, p99 = percentile(keyset, 0.5), percentile(keyset, 0.99)
    b50, b99 = percentile(offset, 0.5), percentile(offset, 0.99)
    bench.add(KEY, f"keyset pageToken at row {depth:,}, {name}: list p50 / p99, 1 client (n={len(keyset)})",
              f"{fmt_ms(p50)} / {fmt_ms(p99)}", f"firstResult={depth} (same page)", f"{fmt_ms(b50)} / {fmt_ms(b99)}",
              f"{fmt_ratio(p50, b50)} / {fmt_ratio(p99, b99)}", "p99 <= 50 ms at any depth", verdict(p99 <= 0.050))


def run(bench):
    specs = query_specs(bench)
    capture_sql(bench, specs)
    total = scalar_at(bench.url, "SELECT count(*) FROM job")
    client = bench.client()
    sql_conn = connect(bench.url, autocommit=True)
    try:
        explain_and_check(bench, specs, sql_conn, client)
        time_one_client(bench, specs, sql_conn, client)
        concurrent_queries(bench, specs, clients=4)
        keyset_pages(bench, client)
    finally:
        client.close()
        sql_conn.close()
    bench.note(KEY, f"Jobs in the table: {total}. Each query: {bench.args.query_repetitions} requests at most "
                    f"(fewer when one query passes {bench.args.query_seconds:.0f} s), after 3 warm-up requests; "
                    "the baseline is the SQL the service issues for the same request (captured from a web "
                    "process behind the SQL tap, benchmarks/sqltap.py, parameters interpolated as psycopg2 sends "
                    "them), run alone through psycopg2 with all rows fetched.")
    for spec in specs:
        query_rows(bench, spec, total)


def _pairs(spec):
    keys = ("list_http", "list_alone", "count_http", "count_alone", "list_http4", "count_http4")
    return {key: (percentile(spec[key], 0.5), percentile(spec[key], 0.99)) for key in keys}


def query_rows(bench, spec, total):
    name, p = spec["name"], _pairs(spec)

    def pair(key):
        return f"{fmt_ms(p[key][0])} / {fmt_ms(p[key][1])}"

    def ratios(key, base):
        return f"{fmt_ratio(p[key][0], p[base][0])} / {fmt_ratio(p[key][1], p[base][1])}"

    if spec.get("deep"):
        target, ok = "p99 <= 100 ms", p["list_http"][1] <= 0.100
    else:
        target, ok = "p50 <= 10 ms, p99 <= 50 ms", p["list_http"][0] <= 0.010 and p["list_http"][1] <= 0.050
    small = spec["count"] <= 10000
    bench.add(KEY, f"{name}: list p50 / p99, 1 client (n={len(spec['list_http'])}, {spec['count']} match)",
              pair("list_http"), "same SQL alone", pair("list_alone"), ratios("list_http", "list_alone"), target,
              verdict(ok))
    bench.add(KEY, f"{name}: list p50 / p99, 4 clients (n={len(spec['list_http4'])})", pair("list_http4"),
              "same SQL alone", pair("list_alone"), ratios("list_http4", "list_alone"), "p99 <= 100 ms",
              verdict(p["list_http4"][1] <= 0.100))
    bench.add(KEY, f"{name}: count p50 / p99, 1 client", pair("count_http"), "same SQL alone", pair("count_alone"),
              ratios("count_http", "count_alone"), "p99 <= 50 ms (<= 10k match)" if small else "none (> 10k match)",
              verdict(p["count_http"][1] <= 0.050) if small else "")
    bench.add(KEY, f"{name}: count p50 / p99, 4 clients (n={len(spec['count_http4'])})", pair("count_http4"),
              "same SQL alone", pair("count_alone"), ratios("count_http4", "count_alone"))
    plan_rows(bench, spec, total)


def plan_rows(bench, spec, total):
    name = spec["name"]
    selectivity = spec["count"] / total if total else 0.0
    for kind in ("list", "count"):
        outline, seq_scans, estimate = spec[f"{kind}_plan"]
        estimated = f"{estimate} rows ({estimate / total:.2%})" if estimate is not None and total else "n/a"
        bench.add(KEY, f"{name}: plan (EXPLAIN of the {kind} query)",
                  f"{'Seq Scan' if seq_scans else 'no Seq Scan'}; selectivity {selectivity:.2%}, planner est. "
                  f"{estimated}", target="no Seq Scan if <= 1 % match",
                  result=verdict(not seq_scans or selectivity > 0.01))
    bench.note(KEY, f"**{name}** `{json.dumps(spec['body'])}`"
                    + (f" firstResult={spec['first_result']}" if spec.get("first_result") else "")
                    + f": {spec['count']} match ({selectivity:.2%})")
    bench.note(KEY, "```\nlist:\n" + "\n".join(spec["list_plan"][0]) + "\ncount:\n"
               + "\n".join(spec["count_plan"][0]) + "\n```")
