"""``.venv/bin/python -m benchmarks.run`` — load N jobs, run the scenarios, update RESULTS.md.

    .venv/bin/python -m benchmarks.run                       # N = 100,000, scenarios 1-7
    .venv/bin/python -m benchmarks.run --jobs 1000000 --scenarios 1,5   # the 1M run
    .venv/bin/python -m benchmarks.run --scenarios 7         # the curve alone

Needs PostgreSQL and Redis on 127.0.0.1 (``--database-url``, ``--redis-url``); the database is
created if missing and its ``public`` schema is dropped and rebuilt by the migrations on every
run (its name must contain "bench"). Logs of the web and worker processes, py-spy profiles and
a JSON summary of each run go to benchmarks/.work/. A missed target is a FAIL row, never
hidden. Exit status 1 when a scenario could not run.

benchmarks/RESULTS.md is made of sections, each between ``<!-- section: KEY -->`` markers; a
run replaces only its own: ``N100000`` (scenarios 1-6 at that N), ``N100000-curve`` (scenario
7), likewise for N = 1,000,000, and keeps every other section, among them ``analysis``, which
no run writes (it is edited by hand). Runs at any other N (smoke runs) write their report to
their folder in benchmarks/.work/ unless ``--output`` names a file.
"""

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.util import ROOT, BenchError, check_loopback_url, connection, database_name, scalar

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1/jobservice_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
WORK_ROOT = ROOT / "benchmarks" / ".work"
COLUMNS = ("machine", "N", "figure", "value", "baseline", "baseline value", "ratio", "target", "result")
DEFAULT_SCENARIOS = "1,2,3,4,5,6,7"
RESULTS_PATH = ROOT / "benchmarks" / "RESULTS.md"
REPORTED_N = (100_000, 1_000_000)
PG_SETTINGS = ("shared_buffers", "max_wal_size", "work_mem", "maintenance_work_mem", "effective_cache_size",
               "synchronous_commit", "random_page_cost", "checkpoint_timeout", "max_connections", "jit")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs to load (N), default 100000")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help=f"comma-separated, default {DEFAULT_SCENARIOS}")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default {DEFAULT_DATABASE_URL}")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"default {DEFAULT_REDIS_URL}")
    parser.add_argument("--output", default=None,
                        help="the report file (default: benchmarks/RESULTS.md at N = 100k and 1M, else the run's "
                             "folder in benchmarks/.work/)")
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
    tuning.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                        help="re-run the scenario 1 batch with py-spy on the pool processes, if installed (1)")
    tuning.add_argument("--curve-repetitions", type=int, default=3, help="batches per point, median (7)")
    tuning.add_argument("--curve-pool", action=argparse.BooleanOptionalAction, default=True,
                        help="stage 4 of the curve: DB_POOL_SIZE 2 vs 5 (7)")
    args = parser.parse_args(argv)
    try:
        args.selected = sorted({int(part) for part in args.scenarios.split(",") if part.strip()})
    except ValueError:
        parser.error(f"--scenarios takes numbers 1-7 separated by commas, got {args.scenarios!r}")
    if not args.selected or any(number not in range(1, 8) for number in args.selected):
        parser.error(f"--scenarios takes numbers 1-7, got {args.scenarios!r}")
    if args.curve_repetitions < 1:
        parser.error("--curve-repetitions must be at least 1")
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


def _run_lines(args, started, finished, counts=None):
    lines = [
        f"- Date: {started:%Y-%m-%d %H:%M} UTC, {(finished - started).total_seconds() / 60:.1f} minutes",
        f"- N = {args.jobs:,} jobs; scenarios {', '.join(map(str, args.selected))} in this run",
        f"- Command: `{' '.join(['.venv/bin/python -m benchmarks.run'] + sys.argv[1:])}`",
    ]
    if counts is not None:
        lines.append(f"- Result: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['ERROR']} ERROR")
    return lines


def _note_lines(notes):
    """Notes as markdown: text lines end in a line break, a table gets a blank line first."""
    lines = []
    for note in notes:
        if note.startswith("|"):
            lines += ["", note, ""]
        else:
            lines.append(note + ("" if note.startswith("```") else "  "))
    return lines


def render_main(args, info, tag, settings, facts, bench, started, finished, errors, selected):
    """The section of scenarios 1-6 of this run."""
    from benchmarks.scenarios import TITLES

    n = args.jobs
    rows = [row for row in bench.rows if row.scenario in selected]
    counts = {verdict: sum(1 for row in rows if row.result == verdict) for verdict in ("PASS", "FAIL", "ERROR")}
    lines = [f"## N = {n:,}: scenarios {', '.join(map(str, selected))}", ""]
    if n not in REPORTED_N:
        lines += [f"**SMOKE RUN at N={n:,}**: a check that the harness works end to end, not the reported "
                  "figures (those come from `make bench` / `make bench-1m`).", ""]
    lines += _run_lines(args, started, finished, counts) + [
        "- How to reproduce: `make bench` (N = 100k) or `make bench-1m` (N = 1M), i.e. "
        "`.venv/bin/python -m benchmarks.run [--jobs 1000000] [--scenarios ...]`, with PostgreSQL on 127.0.0.1:5432 "
        "and Redis on 127.0.0.1:6379; the database `" + database_name(args.database_url) + "` is rebuilt on every run.",
        "",
    ]
    failed = [row for row in rows if row.result in ("FAIL", "ERROR")]
    if failed:
        lines += ["Targets missed or not measured:", ""]
        lines += [f"- scenario {row.scenario}, {row.figure}: {row.value} ({row.result}; target {row.target or 'n/a'})"
                  for row in failed]
        lines.append("")
    lines += ["### Machine", "", "| | |", "|---|---|"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in (info or {}).items()]
    lines += ["", "### Settings in force", "",
              "Web and workers run as the Procfile runs them (`sh -c` on its lines, `APP_ENV=production`), "
              "with two changes: the web binds 127.0.0.1 instead of 0.0.0.0, and each worker gets a node name "
              "(`-n benchK-<tag>@%h`). Each start gets its own `JOB_QUEUE`. Scenarios 2 and 7 change some of "
              "these settings for their own restarts, and say so.", "",
              "| setting | value |", "|---|---|"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in (settings or {}).items()]
    lines += ["", "### Data", ""]
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
    for scenario in selected:
        lines += [f"### Scenario {scenario}: {TITLES[scenario]}", ""]
        scenario_rows = [row for row in rows if row.scenario == scenario]
        if scenario_rows:
            lines += table_header() + [table_line(row, tag, n) for row in scenario_rows]
        else:
            lines.append("(no rows)")
        notes = bench.details.get(scenario, [])
        if notes:
            lines += [""] + _note_lines(notes)
        lines.append("")
    if errors:
        lines += ["### Errors", ""] + [f"- {error}" for error in errors] + [""]
    return "\n".join(lines)


def render_curve(args, info, tag, bench, started, finished, errors):
    """The section of scenario 7: the curve's own table (its rows are the console's)."""
    from benchmarks.scenarios import TITLES

    lines = [f"## N = {args.jobs:,}: scenario 7, {TITLES[7].split(': ', 1)[1]}", ""]
    lines += _run_lines(args, started, finished)
    if info:
        lines.append(f"- Machine: {tag}; PostgreSQL {info.get('PostgreSQL')}; load average at start "
                     f"{info.get('load average at start')}, at end {info.get('load average at end')}; git "
                     f"{info.get('git')}. Other settings as in the N = {args.jobs:,} section.")
    lines.append("")
    curve = bench.curve
    if curve:
        fastest = curve["fastest"]
        lines += ["Fastest of each stage: " + "; ".join(
            f"{stage}: {key} = {value} ({value_seconds:.2f} s)" for stage, key, value, value_seconds in curve["stages"])
            + f". Fastest point: {fastest['seconds']:.2f} s vs {curve['default']['seconds']:.2f} s at the current "
              f"defaults; the whole curve took {curve['elapsed'] / 60:.1f} minutes.", ""]
    lines += _note_lines(bench.details.get(7, []))
    errors = [error for error in errors if error.startswith("scenario 7")]
    rows = [row for row in bench.rows if row.scenario == 7 and row.result == "ERROR"]
    if errors or rows:
        lines += ["", "### Errors", ""] + [f"- {error}" for error in errors or [row.value for row in rows]]
    lines.append("")
    return "\n".join(lines)


# --- RESULTS.md: sections kept across runs ------------------------------------------------------

SECTION = re.compile(r"<!-- section: (?P<key>[\w.-]+) -->\n(?P<body>.*?)<!-- /section: (?P=key) -->\n?", re.S)
SECTION_ORDER = ("analysis", "N100000", "N100000-curve", "N1000000", "N1000000-curve")
RESULTS_INTRO = """# jobservice benchmark results

`python -m benchmarks.run` writes this file in sections: a run replaces the sections of its N
(scenarios 1-6 in one, the curve of scenario 7 in another) and keeps the others, so a full
100k run and a 1M run of scenarios 1 and 5 stand side by side, each with its date, machine and
settings. "Targets and what limits them" is written by hand from the runs below.
"""


def read_sections(path):
    try:
        text = path.read_text()
    except OSError:
        return {}
    return {match["key"]: match["body"].strip("\n") for match in SECTION.finditer(text)}


def _section_title(body):
    return next((line.lstrip("#").strip() for line in body.splitlines() if line.startswith("## ")), "")


def write_results(path, updates):
    """Replace the sections in ``updates`` (key -> markdown), keep the others, write the file."""
    sections = read_sections(path)
    sections.update(updates)
    keys = [key for key in SECTION_ORDER if key in sections]
    keys += sorted(key for key in sections if key not in SECTION_ORDER)
    lines = [RESULTS_INTRO, "Contents:", ""]
    lines += [f"- {_section_title(sections[key])}" for key in keys if _section_title(sections[key])]
    lines.append("")
    for key in keys:
        lines += [f"<!-- section: {key} -->", sections[key], f"<!-- /section: {key} -->", ""]
    path.write_text("\n".join(lines))


# --- orchestration ----------------------------------------------------------------------------

def _on_signal(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def _previous_run(n):
    """The saved memory peaks of a run at the other end of the 100k / 1M comparison, if any."""
    other = {100_000: 1_000_000, 1_000_000: 100_000}.get(n)
    if other is None:
        return None
    path = WORK_ROOT / f"memory-N{other}.json"
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
    # Authentication stays off until the benchmarks send credentials (issue 10, point 8).
    os.environ.update({"APP_ENV": "production", "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
                       "AUTH_ENABLED": "false"})
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
                    scenarios.memory_row(bench, f"{name} during the scenario 1 batch",
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
        if 7 in selected:
            print("\nscenario 7: the curve, restarting web and workers per point ...", flush=True)
            attempt(7, scenarios.scenario_curve, bench)
        if 5 in selected:
            scenarios.memory_flatness_rows(bench, _previous_run(args.jobs))
            scenarios.memory_notes(bench)
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
            main_selected = [number for number in args.selected if number != 7]
            updates = {}
            if main_selected:
                updates[f"N{args.jobs}"] = render_main(args, info, tag, settings, facts, bench, started, finished,
                                                       errors, main_selected)
            if 7 in args.selected:
                updates[f"N{args.jobs}-curve"] = render_curve(args, info, tag, bench, started, finished, errors)
            # An interrupted run never replaces the sections of a complete one.
            if not completed:
                output = work_dir / "RESULTS-partial.md"
            elif args.output:
                output = Path(args.output)
            elif args.jobs in REPORTED_N:
                output = RESULTS_PATH
            else:
                output = work_dir / "RESULTS.md"
            write_results(output, updates)
            if completed and bench.memory:
                summary = {"date": f"{started:%Y-%m-%d %H:%M}", "jobs": args.jobs, "memory": bench.memory}
                (WORK_ROOT / f"memory-N{args.jobs}.json").write_text(json.dumps(summary, indent=1, default=str))
            (work_dir / "summary.json").write_text(json.dumps(
                {"date": f"{started:%Y-%m-%d %H:%M}", "jobs": args.jobs, "completed": completed,
                 "memory": bench.memory, "rows": [row.__dict__ for row in bench.rows]}, indent=1, default=str))
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
