"""Scenario 3: batch creation latency, the POST /job/retries response against the bare
``INSERT ... SELECT`` of the same selection into ``batch_slice`` (one row of ids per slice).

No worker runs (web only), and every batch created is deleted again at once.
"""

import math

from benchmarks.client import REST
from benchmarks.common import BenchError, fmt_date, fmt_seconds, median, verdict
from benchmarks.db import connection, rows, scalar, scalar_at, timed_execute, vacuum

KEY = "3"
TITLE = "Batch creation latency (POST /job/retries response time)"
STACK = "web"
SIZES = (1000, 10000, 100000)
RAW_SLICES = ("INSERT INTO batch_slice (batch_id, slice, size, job_ids) "
              "SELECT 'bench-raw', n / %(invocations)s, count(*), array_agg(id) FROM ({numbered}) AS numbered "
              "GROUP BY n / %(invocations)s")
RAW_BY_IDS = RAW_SLICES.format(numbered="SELECT id, row_number() OVER (ORDER BY id) - 1 AS n "
                                        "FROM unnest(%(ids)s::text[]) AS selection(id)")
RAW_BY_CREATE_TIME = RAW_SLICES.format(numbered="SELECT id, row_number() OVER () - 1 AS n "
                                                "FROM job WHERE create_time <= %(bound)s")


def creation_cases(bench):
    total = scalar_at(bench.url, "SELECT count(*) FROM job")
    cases = []
    with connection(bench.url) as conn:
        for size in SIZES[:2]:
            ids = [row[0] for row in rows(conn, "SELECT id FROM job ORDER BY id LIMIT %s", (min(size, total),))]
            cases.append({"name": f"jobIds, {len(ids)} ids", "size": len(ids), "body": {"retries": 3, "jobIds": ids},
                          "raw": RAW_BY_IDS, "params": {"ids": ids}})
        for size in SIZES:
            bound = scalar(conn, "SELECT create_time FROM job ORDER BY create_time OFFSET %s LIMIT 1",
                           (min(size, total) - 1,))
            matched = scalar(conn, "SELECT count(*) FROM job WHERE create_time <= %s", (bound,))
            cases.append({"name": f"jobQuery createTimes, {matched} jobs", "size": matched,
                          "largest": size == SIZES[-1], "capped": total < size,
                          "body": {"retries": 3, "jobQuery": {"createTimes": [{"operator": "lt",
                                                                               "value": fmt_date(bound)}]}},
                          "raw": RAW_BY_CREATE_TIME, "params": {"bound": bound}})
    return cases


def time_api(bench, client, case):
    """Median POST response and DELETE ?cascade=true, ``creation_repetitions`` times; returns the
    batch's invocationsPerBatchJob (the slice size the raw INSERT must use too)."""
    created, deleted, invocations = [], [], None
    for _ in range(bench.args.creation_repetitions):
        response = client.request("POST", f"{REST}/job/retries", case["body"], retry=False).expect(200)
        batch = response.json()
        invocations = batch["invocationsPerBatchJob"]
        if batch.get("totalJobs") != math.ceil(case["size"] / invocations):
            raise BenchError(f"{case['name']}: totalJobs {batch.get('totalJobs')} for {case['size']} jobs")
        created.append(response.seconds)
        deleted.append(client.request("DELETE", f"{REST}/batch/{batch['id']}?cascade=true",
                                      retry=False).expect(204).seconds)
    case.update(api=median(created), delete=median(deleted), invocations=invocations)


def time_raw(bench, case):
    """The same selection's INSERT ... SELECT, timed without commit and rolled back."""
    samples = []
    with connection(bench.url) as conn:
        for _ in range(bench.args.creation_repetitions):
            seconds, rowcount = timed_execute(conn, case["raw"], dict(case["params"], invocations=case["invocations"]))
            conn.rollback()
            if rowcount != math.ceil(case["size"] / case["invocations"]):
                raise BenchError(f"{case['name']}: raw INSERT wrote {rowcount} slices for {case['size']} jobs")
            samples.append(seconds)
    case["raw_seconds"] = median(samples)


def run(bench):
    cases = creation_cases(bench)
    client = bench.client()
    try:
        bench.warm_up(client)
        for case in cases:
            time_api(bench, client, case)
            time_raw(bench, case)
    finally:
        client.close()
    vacuum(bench.url, "batch_slice", "job", "batch", "historic_batch", "job_definition")
    for case in cases:
        ratio = case["api"] / case["raw_seconds"] if case["raw_seconds"] else float("inf")
        target = result = ""
        if case.get("largest"):
            target = "<= 2x raw (at 100k)" + (" [selection capped at N]" if case["capped"] else "")
            result = verdict(ratio <= 2.0)
        bench.add(KEY, f"create batch, {case['name']} (median of {bench.args.creation_repetitions})",
                  fmt_seconds(case["api"]), "raw INSERT ... SELECT into batch_slice, rolled back",
                  fmt_seconds(case["raw_seconds"]), f"{ratio:.2f}x", target, result)
    bench.note(KEY, "Workers are stopped during this scenario; every batch created is deleted at once with "
                    f"DELETE /batch/{{id}}?cascade=true (median {fmt_seconds(median([c['delete'] for c in cases]))}). "
                    f"Slices of {cases[0]['invocations']} ids (the batches' invocationsPerBatchJob). The raw baseline "
                    "is the bare INSERT ... SELECT of the same selection (same WHERE clause, or unnest of the same "
                    "ids), timed without commit and rolled back.")
