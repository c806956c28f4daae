"""Scenario 8: a Prometheus scrape (GET /metrics) against the SQL it sends, run alone.

The state series are read from the database at scrape time (README "Metrics", spec A22): one
pass over the job table plus small batch and worker queries. The scrape is timed with the
state cache off (``METRICS_CACHE_SECONDS=0``: every scrape reads the database, the worst case)
and with the default cache; the baseline is the statements a scrape sends, captured from a web
process behind the SQL tap and run back to back through psycopg2. Target: an uncached scrape
costs at most the SQL plus 50 ms, and a cached one p99 <= 50 ms.
"""

import re

from benchmarks.client import HttpClient
from benchmarks.common import BenchError, bounded_samples, fmt_ms, fmt_ratio, percentile, verdict
from benchmarks.db import connect, scalar_at, timed_execute
from benchmarks.processes import Stack
from benchmarks.sqltap import SqlTap

KEY = "8"
TITLE = "Metrics scrape (GET /metrics) against its SQL alone"
STATE_STATEMENT = re.compile(r"^\s*SELECT\b.*\bFROM (job|batch|historic_batch|worker)\b", re.IGNORECASE | re.DOTALL)
UNCACHED = {"METRICS_CACHE_SECONDS": "0"}


def capture_sql(bench):
    """The state statements of one scrape, as the web process sends them."""
    with SqlTap(bench.url) as tap:
        stack = Stack(tap.url, bench.redis_url, bench.work_dir, "web behind the SQL tap", extra_env=UNCACHED)
        stack.start(workers=False)
        client = HttpClient(stack.port)
        try:
            client.request("GET", "/metrics").expect(200)
            tap.take()
            body = client.request("GET", "/metrics").expect(200).body.decode()
            statements = [sql for sql in tap.take() if STATE_STATEMENT.search(sql)]
        finally:
            client.close()
            stack.stop()
    if "jobservice_jobs{" not in body or not statements:
        raise BenchError(f"a scrape sent no state statement or returned no job series: {statements}")
    return statements


def _explain(conn, statement):
    with conn.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        return [row[0] for row in cursor.fetchall()]


def _floor(conn, statements):
    return sum(timed_execute(conn, statement, fetch=True)[0] for statement in statements)


def _scrapes(bench, extra_env, label):
    stack = bench.start_stack(label, workers=False, extra_env=extra_env)
    client = HttpClient(stack.port)
    try:
        for _ in range(3):
            client.request("GET", "/metrics").expect(200)
        return bounded_samples(lambda: client.request("GET", "/metrics").expect(200).seconds,
                               bench.args.query_repetitions, bench.args.query_seconds)
    finally:
        client.close()
        bench.stop_stack()


def run(bench):
    statements = capture_sql(bench)
    total = scalar_at(bench.url, "SELECT count(*) FROM job")
    conn = connect(bench.url, autocommit=True)
    try:
        for _ in range(3):
            _floor(conn, statements)
        floor = bounded_samples(lambda: _floor(conn, statements), bench.args.query_repetitions,
                                bench.args.query_seconds)
        plan = _explain(conn, statements[0])
    finally:
        conn.close()
    uncached = _scrapes(bench, UNCACHED, "web only, metrics uncached")
    cached = _scrapes(bench, None, "web only, metrics cached (default)")
    f50, f99 = percentile(floor, 0.5), percentile(floor, 0.99)
    u50, u99 = percentile(uncached, 0.5), percentile(uncached, 0.99)
    c50, c99 = percentile(cached, 0.5), percentile(cached, 0.99)
    bench.add(KEY, f"uncached scrape p50 / p99 at {total:,} jobs (n={len(uncached)})",
              f"{fmt_ms(u50)} / {fmt_ms(u99)}", f"its {len(statements)} statements alone",
              f"{fmt_ms(f50)} / {fmt_ms(f99)}", f"{fmt_ratio(u50, f50)} / {fmt_ratio(u99, f99)}",
              "p50 <= SQL p50 + 50 ms", verdict(u50 <= f50 + 0.050))
    bench.add(KEY, f"cached scrape p50 / p99 (METRICS_CACHE_SECONDS default, n={len(cached)})",
              f"{fmt_ms(c50)} / {fmt_ms(c99)}", target="p99 <= 50 ms", result=verdict(c99 <= 0.050))
    bench.note(KEY, f"Jobs in the table: {total}. The state statements of one scrape, captured behind the SQL tap "
                    "and run back to back through psycopg2, are the baseline. EXPLAIN (ANALYZE, BUFFERS) of the "
                    "job statement:")
    bench.note(KEY, "```\n" + "\n".join(plan) + "\n```")
