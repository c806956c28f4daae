"""Scenario 7: the curve. The batch of scenario 1 end to end by slice size, then seed size,
worker concurrency and pool size; each stage keeps the fastest value of the stages before it.
It renders a RESULTS.md section of its own (``N<n>-curve``)."""

import math
import time

from benchmarks import datagen
from benchmarks.bench import batch_timeout, server_phases
from benchmarks.common import BenchError, fmt_mb, fmt_ratio, fmt_seconds, median
from benchmarks.db import connection, scalar_at, vacuum
from benchmarks.processes import WORKER_COUNT

KEY = "7"
TITLE = "Curve: batch end-to-end by slice size, seed size, worker concurrency, pool size"
STACK = None  # restarts web and workers per point
CURVE_ROWS = 100_000  # the curve revives the failed jobs among the first 100k generated rows
DEFAULTS = {"INVOCATIONS_PER_BATCH_JOB": 1000, "BATCH_JOBS_PER_SEED": 100, "WORKER_CONCURRENCY": 2,
            "DB_POOL_SIZE": 5}
SHORT = {"INVOCATIONS_PER_BATCH_JOB": "invocations", "BATCH_JOBS_PER_SEED": "per seed",
         "WORKER_CONCURRENCY": "concurrency", "DB_POOL_SIZE": "pool"}
STAGES = (("1 slice size", "INVOCATIONS_PER_BATCH_JOB", (100, 250, 500, 1000, 2500, 5000)),
          ("2 seed size", "BATCH_JOBS_PER_SEED", (10, 100, 1000)),
          ("3 worker concurrency", "WORKER_CONCURRENCY", (1, 2, 4)),
          ("4 pool size", "DB_POOL_SIZE", (2, 5)))
BODY = {"retries": 3, "jobQuery": {"noRetriesLeft": True}}


def label(settings):
    return ", ".join(f"{SHORT[key]} {settings[key]}" for key in DEFAULTS)


def curve_jobs(bench):
    """The failed-at-load jobs among the first 100k rows; at N > 100k every other job at 0
    retries is revived once (with its incidents removed), so noRetriesLeft selects only these."""
    with connection(bench.url) as conn:
        ids = datagen.failed_at_load(conn, min(bench.n, CURVE_ROWS))
        with conn.cursor() as cursor:
            cursor.execute("SELECT id FROM job WHERE retries = 0 AND NOT (id = ANY(%s))", (ids,))
            others = [row[0] for row in cursor.fetchall()]
            if others:
                cursor.execute("UPDATE job SET retries = 3, revision = revision + 1 WHERE id = ANY(%s)", (others,))
                cursor.execute("DELETE FROM incident WHERE incident_type = 'failedJob' AND configuration = ANY(%s)",
                               (others,))
        conn.commit()
    if not ids:
        raise BenchError("no failed jobs for the curve")
    return ids, len(others)


def one_batch(bench, client, ids, settings, timeout):
    """The jobs back to 0 retries with incidents, VACUUM + CHECKPOINT, the batch, its checks."""
    with connection(bench.url) as conn:
        datagen.restore_failed(conn, ids)
    vacuum(bench.url, "job", "incident")
    outcome = bench.run_batch(client, BODY, timeout)
    batch = outcome["batch"]
    reported = (batch["invocationsPerBatchJob"], batch["batchJobsPerSeed"])
    if reported != (settings["INVOCATIONS_PER_BATCH_JOB"], settings["BATCH_JOBS_PER_SEED"]):
        raise BenchError(f"{label(settings)}: the web reported invocationsPerBatchJob, batchJobsPerSeed {reported}")
    if batch["totalJobs"] != math.ceil(len(ids) / settings["INVOCATIONS_PER_BATCH_JOB"]):
        raise BenchError(f"{label(settings)}: {batch['totalJobs']} execution jobs for {len(ids)} jobs")
    left = scalar_at(bench.url, "SELECT count(*) FROM job WHERE id = ANY(%s) AND retries = 0", (ids,))
    if left:
        raise BenchError(f"{label(settings)}: {left} jobs still at 0 retries after the batch")
    to_execution, executing, _ = server_phases(outcome["history"])
    return {"seconds": outcome["seconds"], "create": outcome["create_seconds"], "to_execution": to_execution,
            "executing": executing, "jobs": batch["totalJobs"]}


def measure_point(bench, ids, settings):
    """Restart web and workers with ``settings`` (environment), then ``curve_repetitions`` batches."""
    env = {key: str(value) for key, value in settings.items()}
    env["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = ""
    timeout = batch_timeout(len(ids), math.ceil(len(ids) / settings["INVOCATIONS_PER_BATCH_JOB"]))
    bench.start_stack(label(settings), extra_env=env)
    client = bench.client()
    try:
        bench.warm_up(client)
        with bench.sampler.window() as window:
            runs = [one_batch(bench, client, ids, settings, timeout) for _ in range(bench.args.curve_repetitions)]
    finally:
        client.close()
        bench.stop_stack()
    workers = [peak for name, peak in window.peaks.items() if name.startswith("worker")]
    return {"settings": dict(settings), "runs": runs, "seconds": median([run["seconds"] for run in runs]),
            "worker_rss": max((peak["max_process_rss"] for peak in workers), default=0),
            "worker_pss": max((peak["pss"] for peak in workers), default=0)}


def measure_stages(bench, ids):
    """Every stage in turn; a point already measured is not measured again. Returns (points, stages)."""
    points, stages, base = {}, [], dict(DEFAULTS)
    for stage, key, values in STAGES if bench.args.curve_pool else STAGES[:3]:
        measured = []
        for value in values:
            settings = dict(base, **{key: value})
            index = tuple(settings[name] for name in DEFAULTS)
            if index not in points:
                points[index] = dict(measure_point(bench, ids, settings), stage=stage)
                point = points[index]
                bench.add(KEY, f"{stage}: {label(settings)} ({point['runs'][0]['jobs']} execution jobs)",
                          f"{fmt_seconds(point['seconds'])} ({len(ids) / point['seconds']:.0f} rows/s)",
                          f"runs (median of {bench.args.curve_repetitions})",
                          ", ".join(fmt_seconds(run["seconds"]) for run in point["runs"]))
            measured.append(points[index])
        best = min(measured, key=lambda point: point["seconds"])
        stages.append((stage, key, measured, best))
        base = dict(base, **{key: best["settings"][key]})
    return points, stages


def table_lines(ids, stages, default):
    lines = ["| stage | invocationsPerBatchJob | batchJobsPerSeed | WORKER_CONCURRENCY | DB_POOL_SIZE | execution jobs "
             "| runs | median | rows/s | POST response | start -> executionStart | execution | vs current default "
             "| largest worker process RSS | worker tree PSS |", "|" + "---|" * 15]
    for stage, _, measured, best in stages:
        for point in measured:
            settings, runs = point["settings"], point["runs"]
            again = "" if point["stage"] == stage else f" (as in stage {point['stage'].split()[0]})"
            lines.append(
                f"| {stage}{again} | {' | '.join(str(settings[key]) for key in DEFAULTS)} | {runs[0]['jobs']} "
                f"| {', '.join(fmt_seconds(run['seconds']) for run in runs)} "
                f"| {fmt_seconds(point['seconds'])}{' **fastest**' if point is best else ''} "
                f"| {len(ids) / point['seconds']:.0f} | {fmt_seconds(median([run['create'] for run in runs]))} "
                f"| {fmt_seconds(median([run['to_execution'] or 0 for run in runs]))} "
                f"| {fmt_seconds(median([run['executing'] or 0 for run in runs]))} "
                f"| {fmt_ratio(point['seconds'], default['seconds'])} "
                f"| {fmt_mb(point['worker_rss'])} | {fmt_mb(point['worker_pss'])} |")
    return lines


def run(bench):
    started = time.monotonic()
    ids, others = curve_jobs(bench)
    points, stages = measure_stages(bench, ids)
    default = points[tuple(DEFAULTS.values())]
    fastest = min(points.values(), key=lambda point: point["seconds"])
    elapsed = time.monotonic() - started
    for stage, key, _, best in stages:
        bench.add(KEY, f"fastest of stage {stage}", f"{key} = {best['settings'][key]}: {fmt_seconds(best['seconds'])}",
                  "current default point", fmt_seconds(default["seconds"]),
                  fmt_ratio(best["seconds"], default["seconds"]))
    bench.add(KEY, "fastest point overall", f"{label(fastest['settings'])}: {fmt_seconds(fastest['seconds'])}",
              "current defaults", f"{label(default['settings'])}: {fmt_seconds(default['seconds'])}",
              fmt_ratio(fastest["seconds"], default["seconds"]))
    bench.add(KEY, "curve runtime", fmt_seconds(elapsed))
    bench.curve = {"fastest": fastest, "default": default, "elapsed": elapsed,
                   "stages": [(stage, key, best["settings"][key], best["seconds"]) for stage, key, _, best in stages]}
    notes(bench, ids, others, stages)
    bench.note(KEY, "\n".join(table_lines(ids, stages, default)))


def notes(bench, ids, others, stages):
    repetitions = bench.args.curve_repetitions
    bench.note(KEY, f"The {len(ids)} jobs that failed at load among the first {min(bench.n, CURVE_ROWS):,} generated "
                    "rows (datagen.failed_at_load), selected as in scenario 1 by `noRetriesLeft`; "
                    + (f"the other {others} jobs at 0 retries were revived once first (N > 100k). " if others else "")
                    + f"Web and workers ({WORKER_COUNT} worker processes as in the Procfile) restart for every point "
                    f"with its settings in the environment; then, {repetitions} times: the jobs back to 0 retries with "
                    "one failedJob incident each (datagen.restore_failed), VACUUM + CHECKPOINT, POST /job/retries, "
                    "GET /history/batch/{id} every 0.1 s until endTime. Each stage keeps the fastest value of the "
                    "stages before it; a point already measured is not measured again. Stage 4 varies DB_POOL_SIZE "
                    "of web and workers (DB_MAX_OVERFLOW stays 5). The memory columns are the peaks over the point's "
                    "runs.")
    seed_stage = next((measured for _, key, measured, _ in stages if key == "BATCH_JOBS_PER_SEED"), [])
    if seed_stage and seed_stage[0]["runs"][0]["jobs"] <= min(STAGES[1][2]):
        bench.note(KEY, f"At the slice size of stage 2 the batch has {seed_stage[0]['runs'][0]['jobs']} execution "
                        f"jobs, no more than the smallest seed size ({min(STAGES[1][2])}): one seed run creates them "
                        "all whatever batchJobsPerSeed is, so stage 2 shows only noise here; the seed size matters "
                        "when a batch has more execution jobs than batchJobsPerSeed (at N = 1M, 10x as many).")
    bench.note(KEY, "The first batch after a restart runs on cold pool processes (first connection, SQLAlchemy's "
                    "statement cache empty) and is often the slowest of a point's runs; the median takes the "
                    "typical one.")
