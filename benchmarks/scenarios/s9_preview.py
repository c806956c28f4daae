"""Scenario 9: the set-retries preview (POST /job/retries/preview, A20) against a raw
``GROUP BY`` of the same selection.

The preview answers a count, four breakdowns (exception message, activity, job definition,
tenant: the 20 largest groups each) and a few job ids; on PostgreSQL in one scan, grouping
(message, tenant) and (activity, job definition) side by side with ``GROUPING SETS``. The
floor is ONE breakdown as an operator would type it into psql: ``SELECT exception_message,
count(*) ... GROUP BY 1 ORDER BY 2 DESC LIMIT 20`` over the same WHERE clause, timed
alternately with the preview. No worker runs (web only); the preview writes nothing.
"""

from benchmarks.client import REST
from benchmarks.common import BenchError, bounded_samples, fmt_seconds, median, verdict
from benchmarks.db import connection, rows, scalar_at, timed_execute

KEY = "9"
TITLE = "Set-retries preview against a raw GROUP BY of the same selection"
STACK = "web"
TARGET_RATIO = 2.0
RAW = ("SELECT exception_message, count(*) AS n FROM job {where} "
       "GROUP BY exception_message ORDER BY n DESC LIMIT 20")
CASES = (
    {"name": "failed jobs (jobQuery noRetriesLeft)", "body": {"retries": 3, "jobQuery": {"noRetriesLeft": True}},
     "where": "WHERE retries = 0"},
    {"name": "every job (jobQuery {})", "body": {"retries": 3, "jobQuery": {}}, "where": ""},
)


def time_case(bench, client, case):
    """The preview and the raw GROUP BY alternately, one sample of each per round, so that both
    medians come from the same minutes of the machine (a background process slowing one stretch
    of the run slows both sides of the ratio, not one)."""
    sql = RAW.format(where=case["where"])
    answers = []
    raw_samples = []
    with connection(bench.url, autocommit=True) as conn:
        def round_trip():
            response = client.request("POST", f"{REST}/job/retries/preview", case["body"], retry=False).expect(200)
            answers.append(response.json())
            seconds, raw_rows = timed_execute(conn, sql, fetch=True)
            raw_samples.append(seconds)
            case["raw_rows"] = raw_rows
            return response.seconds

        case["samples"] = bounded_samples(round_trip, bench.args.query_repetitions, bench.args.query_seconds)
        plan = "\n".join(row[0] for row in rows(conn, "EXPLAIN " + sql))
    case["preview"] = median(case["samples"])
    case["answer"] = answers[-1]
    case["raw"] = median(raw_samples)
    # GROUPING SETS never run in parallel; a plain GROUP BY may (Gather) once the table is large.
    case["raw_parallel"] = "Gather" in plan


def check(bench, case):
    """The preview counts what SQL counts, and its first breakdown is the raw GROUP BY's."""
    expected = scalar_at(bench.url, f"SELECT count(*) FROM job {case['where']}")
    answer = case["answer"]
    if answer["count"] != expected:
        raise BenchError(f"{case['name']}: preview count {answer['count']}, SQL count {expected}")
    raw_counts = sorted((n for _, n in case["raw_rows"]), reverse=True)
    if [item["count"] for item in answer["byExceptionMessage"]] != raw_counts:
        raise BenchError(f"{case['name']}: byExceptionMessage counts differ from the raw GROUP BY's")


def run(bench):
    client = bench.client()
    try:
        bench.warm_up(client)
        for case in CASES:
            time_case(bench, client, case)
            check(bench, case)
    finally:
        client.close()
    for case in CASES:
        ratio = case["preview"] / case["raw"] if case["raw"] else float("inf")
        bench.add(KEY, f"preview, {case['name']}: {case['answer']['count']} jobs (median of {len(case['samples'])})",
                  fmt_seconds(case["preview"]), "raw GROUP BY exception_message, top 20, same WHERE",
                  fmt_seconds(case["raw"]), f"{ratio:.2f}x", f"<= {TARGET_RATIO:g}x raw",
                  verdict(ratio <= TARGET_RATIO))
    bench.note(KEY, "The preview's time is the HTTP response time (count, four top-20 breakdowns and up to 10 sample "
                    "ids; on PostgreSQL one scan grouping two column pairs with GROUPING SETS); the raw figure is "
                    "one GROUP BY of the same selection sent with psycopg, rows fetched, alternately with the "
                    "preview (one of each per round). Workers are stopped during this scenario.")
    parallel = [case["name"] for case in CASES if case["raw_parallel"]]
    bench.note(KEY, "PostgreSQL runs GROUPING SETS without parallel workers; the raw GROUP BY's plan used parallel "
                    f"workers for: {', '.join(parallel) if parallel else 'none'}.")
