"""Scenario 2: the same failed jobs revived by a batch with our defaults and with Camunda's
(one job per execution job, 100 execution jobs per seed run); web and workers restart for each."""

import math

from benchmarks import datagen
from benchmarks.bench import batch_timeout
from benchmarks.common import BenchError, fmt_ratio, fmt_seconds, verdict
from benchmarks.db import connection, rows, scalar_at, vacuum

KEY = "2"
TITLE = "Batch settings: Camunda's defaults vs ours, same failed jobs"
STACK = None  # restarts web and workers itself
CAMUNDA_DEFAULTS = {"INVOCATIONS_PER_BATCH_JOB": "1", "BATCH_JOBS_PER_SEED": "100",
                    "INVOCATIONS_PER_BATCH_JOB_BY_TYPE": ""}


def one_run(bench, ids, label, env):
    """Restart with ``env``, the jobs back to 0 retries, the batch by jobIds; (outcome, jobs left at 0)."""
    bench.stop_stack()
    with connection(bench.url) as conn:
        datagen.restore_failed(conn, ids)
    vacuum(bench.url, "job", "incident")
    bench.start_stack(label, extra_env=env)
    client = bench.client()
    try:
        bench.warm_up(client)
        # The timeout is a cap, so without a setting to expect it assumes the slowest (1 job per slice).
        expected = int(env["INVOCATIONS_PER_BATCH_JOB"]) if env else None
        outcome = bench.run_batch(client, {"retries": 3, "jobIds": ids},
                                  batch_timeout(len(ids), math.ceil(len(ids) / (expected or 1))))
    finally:
        client.close()
        bench.stop_stack()
    if env and outcome["batch"]["invocationsPerBatchJob"] != expected:
        raise BenchError(f"{label}: the web reported invocationsPerBatchJob "
                         f"{outcome['batch']['invocationsPerBatchJob']}, expected {expected}")
    left = scalar_at(bench.url, "SELECT count(*) FROM job WHERE id = ANY(%s) AND retries = 0", (ids,))
    return outcome, left


def run(bench):
    with connection(bench.url) as conn:
        ids = [row[0] for row in rows(conn, "SELECT id FROM job WHERE failed_activity_id IS NOT NULL "
                                            "ORDER BY id LIMIT %s", (min(10000, bench.facts["failed"]),))]
    if not ids:
        raise BenchError("no failed jobs to select")
    ours = (f"ours (invocations {bench.settings.get('INVOCATIONS_PER_BATCH_JOB')}, "
            f"per seed {bench.settings.get('BATCH_JOBS_PER_SEED')})")
    camunda = "Camunda defaults (invocations 1, per seed 100)"
    # Ours first: it never profits from a cache the other run warmed.
    runs = [(label, *one_run(bench, ids, label, env)) for label, env in ((ours, {}), (camunda, CAMUNDA_DEFAULTS))]
    for label, outcome, left in runs:
        total_jobs, seconds = outcome["batch"]["totalJobs"], outcome["seconds"]
        bench.add(KEY, f"{label}: {len(ids)} jobs, {total_jobs} execution jobs",
                  f"{fmt_seconds(seconds)} ({total_jobs / seconds:.1f} execution jobs/s, {len(ids) / seconds:.0f} "
                  "rows/s)", target="all updated", result=verdict(left == 0))
    ours_seconds, camunda_seconds = runs[0][1]["seconds"], runs[1][1]["seconds"]
    bench.add(KEY, "ours vs Camunda's defaults, end-to-end", fmt_seconds(ours_seconds), camunda,
              fmt_seconds(camunda_seconds), fmt_ratio(ours_seconds, camunda_seconds), "ours faster (< 1x)",
              verdict(ours_seconds < camunda_seconds))
    bench.note(KEY, f"The {len(ids)} jobs: the first {len(ids)} ids (by id) of the jobs that failed at load; before "
                    "each run they are set back to 0 retries with a failedJob incident each, then VACUUM and "
                    "CHECKPOINT; web and workers are restarted with the run's settings (a fresh queue each). "
                    "Selection by jobIds. Ours runs first.")
