"""Scenario 10: ``exceptionMessageLike`` with a leading ``%`` (spec A18) over HTTP, against the
same SQL alone.

The loaded data has 20 exception messages, each on about 2.5 % of the jobs, so no pattern over
them is selective. The scenario adds ``SELECTIVE_ROWS`` jobs with a message of their own for
the selective pattern (target: list p99 <= 50 ms, served by the trigram index of migration
0011, no Seq Scan) and deletes them afterwards; a pattern matching one of the common messages
is measured as well, without a target. The SQL of each request is captured from a web process
behind the SQL tap as in scenario 4 (its helpers do the capture, checks and timings).
"""

from benchmarks.common import fmt_ms, fmt_ratio, percentile, verdict
from benchmarks.db import connect, connection, scalar_at
from benchmarks.scenarios import s4_queries

KEY = "10"
TITLE = "exceptionMessageLike with a leading % (POST /job maxResults=50, POST /job/count)"
STACK = "web"
SELECTIVE_ROWS = 20
SELECTIVE_MESSAGE = "Fraud check rejected order {n}: rule FRD-4711 matched"

INSERT_SQL = """
INSERT INTO job (id, revision, type, handler_type, retries, exception_message, has_stacktrace, suspended,
                 priority, create_time)
SELECT md5('bench-like-' || i)::uuid::text, 1, 'message', 'bench.work', 1, replace(%s, '{n}', i::text), FALSE,
       FALSE, 0, now()
FROM generate_series(1, %s) AS i
"""
DELETE_SQL = "DELETE FROM job WHERE id IN (SELECT md5('bench-like-' || i)::uuid::text FROM generate_series(1, %s) i)"


def specs():
    return [
        {"name": "exceptionMessageLike '%FRD-4711%' (selective)", "body": {"exceptionMessageLike": "%FRD-4711%"},
         "selective": True},
        {"name": "exceptionMessageLike '%timed out%' (one common message)",
         "body": {"exceptionMessageLike": "%timed out%"}},
    ]


def run(bench):
    with connection(bench.url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(DELETE_SQL, (SELECTIVE_ROWS,))  # left over by an interrupted run
        cursor.execute(INSERT_SQL, (SELECTIVE_MESSAGE, SELECTIVE_ROWS))
    try:
        _measure(bench, specs())
    finally:
        with connection(bench.url, autocommit=True) as conn, conn.cursor() as cursor:
            cursor.execute(DELETE_SQL, (SELECTIVE_ROWS,))


def _measure(bench, query_specs):
    s4_queries.capture_sql(bench, query_specs)
    total = scalar_at(bench.url, "SELECT count(*) FROM job")
    client = bench.client()
    sql_conn = connect(bench.url, autocommit=True)
    try:
        s4_queries.explain_and_check(bench, query_specs, sql_conn, client)
        s4_queries.time_one_client(bench, query_specs, sql_conn, client)
    finally:
        client.close()
        sql_conn.close()
    bench.note(KEY, f"Jobs in the table: {total} ({SELECTIVE_ROWS} of them added by this scenario with the "
                    f"message `{SELECTIVE_MESSAGE}`, removed afterwards). Each query: "
                    f"{bench.args.query_repetitions} requests at most, after 3 warm-up requests; the baseline "
                    "is the SQL the service issues for the same request, run alone through psycopg2.")
    for spec in query_specs:
        _rows(bench, spec, total)


def _rows(bench, spec, total):
    name = spec["name"]
    for kind in ("list", "count"):
        http, alone = spec[f"{kind}_http"], spec[f"{kind}_alone"]
        p50, p99, b50, b99 = (percentile(http, 0.5), percentile(http, 0.99), percentile(alone, 0.5),
                              percentile(alone, 0.99))
        target, result = "", ""
        if spec.get("selective"):
            target, result = "p99 <= 50 ms", verdict(p99 <= 0.050)
        bench.add(KEY, f"{name}: {kind} p50 / p99, 1 client (n={len(http)}, {spec['count']} match)",
                  f"{fmt_ms(p50)} / {fmt_ms(p99)}", "same SQL alone", f"{fmt_ms(b50)} / {fmt_ms(b99)}",
                  f"{fmt_ratio(p50, b50)} / {fmt_ratio(p99, b99)}", target, result)
        outline, seq_scans, _ = spec[f"{kind}_plan"]
        if spec.get("selective"):
            bench.add(KEY, f"{name}: plan (EXPLAIN of the {kind} query)",
                      "Seq Scan" if seq_scans else "no Seq Scan", target="no Seq Scan",
                      result=verdict(not seq_scans))
        bench.note(KEY, f"**{name}** {kind} plan:\n```\n" + "\n".join(outline) + "\n```")
