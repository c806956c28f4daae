"""``.venv/bin/python -m benchmarks.run`` — load N jobs, run the scenarios, write RESULTS.md.

    .venv/bin/python -m benchmarks.run                       # N = 100,000, all six scenarios
    .venv/bin/python -m benchmarks.run --jobs 1000000        # N = 1,000,000
    .venv/bin/python -m benchmarks.run --scenarios 1,5       # some scenarios only

Needs PostgreSQL and Redis on 127.0.0.1 (``--database-url``, ``--redis-url``); the database is
created if missing and its ``public`` schema is dropped and rebuilt by the migrations on every
run (its name must contain "bench"). Logs of the web and worker processes and a JSON summary
of each run go to benchmarks/.work/. The report goes to benchmarks/RESULTS.md and stdout; a
missed target is a FAIL row, never hidden. Exit status 1 when a scenario could not run.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import traceback
from datetime import datetime, timezone

from benchmarks.util import ROOT, BenchError, check_loopback_url, connection, database_name, scalar

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1/jobservice_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
WORK_ROOT = ROOT / "benchmarks" / ".work"
COLUMNS = ("machine", "N", "figure", "value", "baseline", "baseline value", "ratio", "target", "result")
PG_SETTINGS = ("shared_buffers", "max_wal_size", "work_mem", "maintenance_work_mem", "effective_cache_size",
               "synchronous_commit", "random_page_cost", "checkpoint_timeout", "max_connections", "jit")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs to load (N), default 100000")
    parser.add_argument("--scenarios", default="1,2,3,4,5,6", help="comma-separated scenario numbers")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default {DEFAULT_DATABASE_URL}")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"default {DEFAULT_REDIS_URL}")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="the report file")
    tuning = parser.add_argument_group("bounds of the measurements")
    tuning.add_argument("--query-repetitions", type=int, default=100, help="requests per query and kind (4)")
    tuning.add_argument("--query-seconds", type=float, default=15.0, help="time cap per query and kind (4)")
    tuning.add_argument("--concurrent-rounds", type=int, default=25, help="rounds per client, 4 clients (4)")
    tuning.add_argument("--concurrent-seconds", type=float, default=120.0, help="time cap, 4 clients (4)")
    tuning.add_argument("--creation-repetitions", type=int, default=5, help="batches per selection (3)")
    tuning.add_argument("--stream-seconds", type=float, default=1800.0, help="time cap of GET /job (5)")
    tuning.add_argument("--noop-jobs", type=int, default=10_000, help="demo.noop jobs (6)")
    tuning.add_argument("--noop-seconds", type=float, default=900.0, help="time cap of the noop run (6)")
    tuning.add_argument("--latency-samples", type=int, default=20, help="single-job latency samples (6)")
    args = parser.parse_args(argv)
    try:
        args.selected = sorted({int(part) for part in args.scenarios.split(",") if part.strip()})
    except ValueError:
        parser.error(f"--scenarios takes numbers 1-6 separated by commas, got {args.scenarios!r}")
    if not args.selected or any(number not in range(1, 7) for number in args.selected):
        parser.error(f"--scenarios takes numbers 1-6, got {args.scenarios!r}")
    if args.jobs < 1000:
        parser.error("--jobs must be at least 1000")
    return args


# --- machine, settings ------------------------------------------------------------------------

def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def _git(*arguments):
    try:
        return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(database_url, redis_url):
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
    with connection(database_url) as conn:
        info["PostgreSQL"] = scalar(conn, "SHOW server_version")
        for name in PG_SETTINGS:
            info[f"pg {name}"] = scalar(conn, f"SHOW {name}")
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
        info["Redis"] = client.info("server").get("redis_version")
        client.close()
    except Exception as exc:  # noqa: BLE001
        raise BenchError(f"Redis at {redis_url} does not answer: {exc}") from None
    head = _git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [line[3:] for line in _git("status", "--porcelain").splitlines()
               if line[3:] and not line[3:].startswith("benchmarks/")]
    info["git"] = head + (f" + uncommitted changes in {len(changed)} files outside benchmarks/ "
                          f"({', '.join(changed[:8])}{', ...' if len(changed) > 8 else ''})" if changed else "")
    tag = f"{info['nproc']} cpu {' '.join(cpu.split()[:2])}, {mem_kb / 1024 / 1024:.0f} GiB"
    return info, tag


def effective_settings():
    """The settings web and workers run with: the config classes read the same environment."""
    from benchmarks.processes import WORKER_COUNT, procfile_setting
    from config.settings import BaseConfig as config

    by_type = config.INVOCATIONS_PER_BATCH_JOB_BY_TYPE.get("set-job-retries")
    return {
        "INVOCATIONS_PER_BATCH_JOB": by_type or config.INVOCATIONS_PER_BATCH_JOB,
        "BATCH_JOBS_PER_SEED": config.BATCH_JOBS_PER_SEED,
        "worker processes (Procfile worker lines)": WORKER_COUNT,
        "WORKER_CONCURRENCY (pool per worker)": procfile_setting("WORKER_CONCURRENCY"),
        "WEB_CONCURRENCY (gunicorn workers)": procfile_setting("WEB_CONCURRENCY"),
        "WEB_THREADS": procfile_setting("WEB_THREADS"),
        "DB_POOL_SIZE / DB_MAX_OVERFLOW (per process)": f"{config.DB_POOL_SIZE} / {config.DB_MAX_OVERFLOW}",
        "JOB_ACQUISITION_SIZE": config.JOB_ACQUISITION_SIZE,
        "JOB_SWEEP_INTERVAL_SECONDS": config.JOB_SWEEP_INTERVAL_SECONDS,
        "BATCH_POLL_TIME": config.BATCH_POLL_TIME_SECONDS,
        "QUERY_STREAM_CHUNK_SIZE": config.QUERY_STREAM_CHUNK_SIZE,
        "QUERY_MAX_RESULTS_LIMIT": config.QUERY_MAX_RESULTS_LIMIT,
        "LOG_LEVEL": procfile_setting("LOG_LEVEL"),
    }


# --- report -----------------------------------------------------------------------------------

def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_header():
    return ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]


def table_line(row, tag, n):
    cells = (tag, f"{n:,}", row.figure, row.value, row.baseline, row.baseline_value, row.ratio, row.target,
             f"**{row.result}**" if row.result in ("FAIL", "ERROR") else row.result)
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def render_report(args, info, tag, settings, facts, bench, started, finished, errors):
    from benchmarks.scenarios import TITLES

    n = args.jobs
    lines = ["# jobservice benchmark results", ""]
    if n < 100_000:
        lines += [f"**SMOKE RUN at N={n:,}**: a check that the harness works end to end on a busy machine, "
                  "not the reported figures (those come from `make bench` / `make bench-1m`).", ""]
    counts = {verdict: sum(1 for row in bench.rows if row.result == verdict) for verdict in ("PASS", "FAIL", "ERROR")}
    lines += [
        f"- Date: {started:%Y-%m-%d %H:%M} UTC, {(finished - started).total_seconds() / 60:.1f} minutes",
        f"- N = {n:,} jobs; scenarios {', '.join(map(str, args.selected))}",
        f"- Command: `{' '.join(['.venv/bin/python -m benchmarks.run'] + sys.argv[1:])}`",
        "- How to reproduce: `make bench` (N = 100k) or `make bench-1m` (N = 1M), i.e. "
        "`.venv/bin/python -m benchmarks.run [--jobs 1000000]`, with PostgreSQL on 127.0.0.1:5432 and Redis on "
        "127.0.0.1:6379; the database `" + database_name(args.database_url) + "` is rebuilt on every run.",
        f"- Result: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['ERROR']} ERROR",
        "",
    ]
    failed = [row for row in bench.rows if row.result in ("FAIL", "ERROR")]
    if failed:
        lines += ["Targets missed or not measured:", ""]
        lines += [f"- scenario {row.scenario}, {row.figure}: {row.value} ({row.result}; target {row.target or 'n/a'})"
                  for row in failed]
        lines.append("")
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in info.items()]
    lines += ["", "## Settings in force", "",
              "Web and workers run as the Procfile runs them (`sh -c` on its lines, `APP_ENV=production`), "
              "with two changes: the web binds 127.0.0.1 instead of 0.0.0.0, and each worker gets a node name "
              "(`-n benchK-<tag>@%h`). Each start gets its own `JOB_QUEUE`.", "",
              "| setting | value |", "|---|---|"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in settings.items()]
    lines += ["", "## Data", ""]
    if facts:
        timings = facts["timings"]
        lines += [
            f"- {facts['jobs']:,} jobs ({facts['failed']:,} failed with incidents, {facts['suspended']:,} suspended, "
            f"{facts['timers']:,} timers), {facts['job_definitions']:,} job definitions; `job` table "
            f"{facts['job_table_bytes'] / 2**20:.0f} MB, with indexes {facts['job_total_bytes'] / 2**20:.0f} MB",
            "- Load: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            + f"; total {sum(timings.values()):.1f} s (one INSERT ... SELECT generate_series each, then "
              "VACUUM ANALYZE and CHECKPOINT)",
            "- What the rows look like: see the docstring of benchmarks/datagen.py.",
        ]
    lines.append("")
    for scenario in args.selected:
        lines += [f"## Scenario {scenario}: {TITLES[scenario]}", ""]
        rows = [row for row in bench.rows if row.scenario == scenario]
        if rows:
            lines += table_header() + [table_line(row, tag, n) for row in rows]
        else:
            lines.append("(no rows)")
        notes = bench.details.get(scenario, [])
        if notes:
            lines += [""] + [note + ("" if note.startswith("```") else "  ") for note in notes]
        lines.append("")
    if errors:
        lines += ["## Errors", ""] + [f"- {error}" for error in errors] + [""]
    return "\n".join(lines)


# --- orchestration ----------------------------------------------------------------------------

def _on_signal(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def _previous_run(n):
    """The saved summary of a run at the other end of the 100k / 1M comparison, if any."""
    other = {100_000: 1_000_000, 1_000_000: 100_000}.get(n)
    if other is None:
        return None
    path = WORK_ROOT / f"last-run-N{other}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def main(argv=None):
    args = parse_args(argv)
    check_loopback_url(args.database_url, "--database-url")
    check_loopback_url(args.redis_url, "--redis-url")
    if "bench" not in database_name(args.database_url):
        raise SystemExit(f"--database-url: the database name must contain 'bench' (its schema is dropped on "
                         f"every run), got {database_name(args.database_url)!r}")
    # Before anything imports config.settings: the config classes read the environment once.
    os.environ.update({"APP_ENV": "production", "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url})
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    from benchmarks import datagen, scenarios
    from benchmarks.processes import MemorySampler, stop_all

    started = datetime.now(timezone.utc).replace(tzinfo=None)
    work_dir = WORK_ROOT / f"{started:%Y%m%d-%H%M%S}-N{args.jobs}"
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"benchmark: N={args.jobs:,}, scenarios {args.scenarios}; logs in {work_dir}", flush=True)

    sampler = MemorySampler().start()
    bench = None
    errors = []
    facts = None
    info = tag = settings = None
    completed = False
    try:
        created = datagen.ensure_database(args.database_url)
        info, tag = machine_info(args.database_url, args.redis_url)
        print(f"database {database_name(args.database_url)}{' created' if created else ''}; machine: {tag}; "
              f"PostgreSQL {info['PostgreSQL']}; load average {info['load average at start']}", flush=True)
        datagen.reset_schema(args.database_url)
        from app import create_app

        app = create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": args.database_url,
                                                  "BROKER_URL": args.redis_url})
        datagen.run_migrations(app)
        import logging

        logging.getLogger().setLevel(logging.WARNING)
        print(f"loading {args.jobs:,} jobs ...", flush=True)
        facts = datagen.load(args.database_url, args.jobs)
        print(f"loaded in {sum(facts['timings'].values()):.1f} s: "
              + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in facts["timings"].items()), flush=True)
        settings = effective_settings()

        current = {"scenario": None}

        def on_row(row):
            if current["scenario"] != row.scenario:
                current["scenario"] = row.scenario
                print(f"\n## Scenario {row.scenario}: {scenarios.TITLES[row.scenario]}\n"
                      + "\n".join(table_header()), flush=True)
            print(table_line(row, tag, args.jobs), flush=True)

        bench = scenarios.Bench(args, app, tag, facts, settings, work_dir, sampler, on_row)

        def attempt(number, function, *arguments):
            try:
                function(*arguments)
                return True
            except Exception as exc:  # noqa: BLE001 - one scenario's failure is reported, the rest run
                message = f"{type(exc).__name__}: {exc}"
                errors.append(f"scenario {number}: {message}")
                (work_dir / f"scenario{number}-error.txt").write_text(traceback.format_exc())
                bench.add(number, "scenario could not complete", message[:400], result="ERROR")
                return False

        selected = set(args.selected)
        if selected & {3, 4, 5}:
            print("\nstarting web (no workers) ...", flush=True)
            if attempt(min(selected & {3, 4, 5}), bench.start_stack, "web only", True, False):
                if 4 in selected:
                    attempt(4, scenarios.scenario_queries, bench)
                if 3 in selected:
                    attempt(3, scenarios.scenario_creation, bench)
                if 5 in selected:
                    attempt(5, scenarios.scenario_stream, bench)
        if 1 in selected:
            print("\nstarting web and workers ...", flush=True)

            def start_all():
                if bench.stack is None:
                    bench.start_stack("web and workers")
                else:
                    bench.add_workers()

            if attempt(1, start_all):
                attempt(1, scenarios.scenario_batch, bench)
            if 5 in selected:
                for name in ("web", "worker1", "worker2"):
                    scenarios.memory_row(bench, f"{name} tree peak RSS during the scenario 1 batch",
                                         bench.memory.get(f"batch_{name}"))
        elif 5 in selected:
            bench.add(5, "worker and web peaks during a batch", "scenario 1 not selected")
        bench.stop_stack()
        if 2 in selected:
            print("\nscenario 2: restarting web and workers per setting ...", flush=True)
            attempt(2, scenarios.scenario_defaults, bench)
        if 6 in selected:
            print("\nscenario 6: executor ...", flush=True)
            attempt(6, scenarios.scenario_executor, bench)
        if 5 in selected:
            scenarios.memory_flatness_rows(bench, _previous_run(args.jobs))
        completed = True
    finally:
        if bench is not None:
            try:
                bench.stop_stack()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"stopping processes: {exc}")
        stop_all()
        sampler.stop()
        finished = datetime.now(timezone.utc).replace(tzinfo=None)
        if bench is not None:
            if info is not None:
                info["load average at end"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
            if not completed:
                errors.append("the run was interrupted; the figures above are partial")
            report = render_report(args, info, tag, settings, facts, bench, started, finished, errors)
            # An interrupted run never replaces the report of a complete one.
            output = args.output if completed else str(work_dir / "RESULTS-partial.md")
            with open(output, "w") as handle:
                handle.write(report + "\n")
            if completed:
                summary = {"date": f"{started:%Y-%m-%d %H:%M}", "jobs": args.jobs, "memory": bench.memory,
                           "rows": [row.__dict__ for row in bench.rows]}
                (WORK_ROOT / f"last-run-N{args.jobs}.json").write_text(json.dumps(summary, indent=1, default=str))
            counts = {verdict: sum(1 for row in bench.rows if row.result == verdict)
                      for verdict in ("PASS", "FAIL", "ERROR")}
            print(f"\n{'' if completed else 'INTERRUPTED: '}{counts['PASS']} PASS, {counts['FAIL']} FAIL, "
                  f"{counts['ERROR']} ERROR in {(finished - started).total_seconds() / 60:.1f} min; "
                  f"report: {output}", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        sys.exit(130)
