"""``.venv/bin/python -m benchmarks.run`` — load N jobs, run the scenarios, update RESULTS.md.

    .venv/bin/python -m benchmarks.run                       # N = 100,000, scenarios 1-10
    .venv/bin/python -m benchmarks.run --jobs 1000000 --scenarios 1,5   # the 1M run
    .venv/bin/python -m benchmarks.run --scenarios 7         # the curve alone
    .venv/bin/python -m benchmarks.run --scenarios R1,R2,R3  # recovery (make bench-recovery)

Scenarios 1-10 need PostgreSQL and Redis on 127.0.0.1 (``--database-url``, ``--redis-url``); the
database is created if missing and its ``public`` schema is dropped and rebuilt by the Procfile's
release line on every run (its name must contain "bench"). R1-R3 start a PostgreSQL cluster and
a Redis server of their own (``--recovery-pg-port``, ``--recovery-redis-port``). Logs of the
web and worker processes, py-spy profiles and a JSON summary of each run go to
benchmarks/.work/. A missed target is a FAIL row, never hidden. Exit status 1 when a scenario
could not run.

RESULTS.md sections (benchmarks/report.py) are written by runs at N = 100k or 1M, and by
recovery runs at the default ``--recovery-jobs``; other runs (smoke runs) write their report to
their folder in benchmarks/.work/ unless ``--output`` names a file.
"""

import argparse
import json
import os
import signal
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import datagen, report, settings_probe
from benchmarks.bench import Bench
from benchmarks.common import ROOT, BenchError
from benchmarks.db import check_loopback_url, database_name
from benchmarks.memory import MemorySampler
from benchmarks.processes import WORKER_COUNT, Stack, set_authentication, stop_all
from benchmarks.scenarios import CURVE, DEFAULT, MAIN, PLAN, RECOVERY, TITLES, parse_selection, recovery, s5_memory

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1/jobservice_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
WORK_ROOT = ROOT / "benchmarks" / ".work"
RESULTS_PATH = ROOT / "benchmarks" / "RESULTS.md"
RECOVERY_JOBS = 500_000


def _environment_pair(text):
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _tuning_options(parser):
    tuning = parser.add_argument_group("bounds of the measurements")
    tuning.add_argument("--query-repetitions", type=int, default=100, help="requests per query and kind (4)")
    tuning.add_argument("--query-seconds", type=float, default=15.0, help="time cap per query and kind (4)")
    tuning.add_argument("--concurrent-rounds", type=int, default=25, help="rounds per client, 4 clients (4)")
    tuning.add_argument("--concurrent-seconds", type=float, default=120.0, help="time cap, 4 clients (4)")
    tuning.add_argument("--creation-repetitions", type=int, default=5, help="batches per selection (3)")
    tuning.add_argument("--stream-seconds", type=float, default=1800.0, help="time cap of GET /job (5)")
    tuning.add_argument("--noop-jobs", type=int, default=10_000, help="demo.noop jobs, and the floor's (6)")
    tuning.add_argument("--noop-seconds", type=float, default=900.0, help="time cap of the noop run (6)")
    tuning.add_argument("--latency-samples", type=int, default=20, help="single-job latency samples (6)")
    tuning.add_argument("--batch-repetitions", type=int, default=3,
                        help="the batch and (f) alternately this many times each, medians compared (1)")
    tuning.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                        help="re-run the scenario 1 batch with py-spy on the pool processes, if installed (1)")
    tuning.add_argument("--curve-repetitions", type=int, default=3, help="batches per point, median (7)")
    tuning.add_argument("--curve-pool", action=argparse.BooleanOptionalAction, default=True,
                        help="stage 4 of the curve: DB_POOL_SIZE 2 vs 5 (7)")


def _recovery_options(parser):
    group = parser.add_argument_group("recovery scenarios (R1-R3)")
    group.add_argument("--recovery-jobs", type=int, default=RECOVERY_JOBS,
                       help=f"jobs loaded into the private cluster; 40 %% are selected (default {RECOVERY_JOBS})")
    group.add_argument("--recovery-invocations", type=int, default=100,
                       help="INVOCATIONS_PER_BATCH_JOB of web and workers: small slices, a longer batch")
    group.add_argument("--recovery-fault-at", type=float, default=0.25,
                       help="share of the execution jobs complete when the fault comes (default 0.25)")
    group.add_argument("--recovery-cap-seconds", type=float, default=400.0,
                       help="give up waiting for endTime this long after the fault (default 400)")
    group.add_argument("--outage-seconds", type=float, default=5.0, help="Redis / PostgreSQL down this long (R2, R3)")
    group.add_argument("--recovery-env", type=_environment_pair, action="append", default=[], metavar="NAME=VALUE",
                       help="more environment for the recovery stacks, e.g. JOB_LOCK_TIME_SECONDS=30 (repeatable)")
    group.add_argument("--recovery-pg-port", type=int, default=5491, help="the private PostgreSQL's port")
    group.add_argument("--recovery-redis-port", type=int, default=6391, help="the private Redis's port")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs to load (N), default 100000")
    parser.add_argument("--job-log", action=argparse.BooleanOptionalAction, default=True,
                        help="JOB_LOG_ENABLED in the stacks (default on, the service's default; "
                             "--no-job-log measures without it)")
    parser.add_argument("--scenarios", default=DEFAULT, help=f"comma-separated, of {', '.join(TITLES)}; "
                                                             f"default {DEFAULT}")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default {DEFAULT_DATABASE_URL}")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"default {DEFAULT_REDIS_URL}")
    parser.add_argument("--output", default=None, help="the report file (default: benchmarks/RESULTS.md for "
                                                       "reported sizes, else the run's folder in benchmarks/.work/)")
    parser.add_argument("--authentication", action=argparse.BooleanOptionalAction, default=True,
                        help="run the service with AUTH_ENABLED (default, as in production); "
                             "--no-authentication measures without it")
    _tuning_options(parser)
    _recovery_options(parser)
    args = parser.parse_args(argv)
    try:
        args.selected = parse_selection(args.scenarios)
    except ValueError as exc:
        parser.error(f"--scenarios: {exc}")
    if args.curve_repetitions < 1:
        parser.error("--curve-repetitions must be at least 1")
    if args.jobs < 1000 or args.recovery_jobs < 1000:
        parser.error("--jobs and --recovery-jobs must be at least 1000")
    if not 0 < args.recovery_fault_at < 1:
        parser.error("--recovery-fault-at is a share between 0 and 1")
    return args


def effective_settings(args, work_dir):
    """The settings of the default stack (not started): the probe's, and the Procfile lines as run."""
    stack = Stack(args.database_url, args.redis_url, work_dir, "settings")
    settings = settings_probe.effective_settings(stack.env)
    settings["worker processes (Procfile worker lines)"] = WORKER_COUNT
    settings.update({f"{name} line, as the shell runs it": line for name, line in stack.commands_as_run().items()})
    return settings


def prepare_data(bench):
    """The benchmark database rebuilt and loaded with N jobs (only when a scenario 1-10 is selected)."""
    args = bench.args
    created = datagen.prepare(args.database_url, args.redis_url, bench.work_dir)
    print(f"database {database_name(args.database_url)}{' created' if created else ''} migrated; "
          f"loading {args.jobs:,} jobs ...", flush=True)
    bench.facts = datagen.load(args.database_url, args.jobs)
    print(f"loaded in {sum(bench.facts['timings'].values()):.1f} s: "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in bench.facts["timings"].items()), flush=True)
    bench.settings = effective_settings(args, bench.work_dir)


def attempt(bench, run, key, step):
    """Run one step; a failure becomes an ERROR row and the next step runs."""
    try:
        step(bench)
    except Exception as exc:  # noqa: BLE001 - one scenario's failure is reported, the rest run
        message = f"{type(exc).__name__}: {exc}"
        run.errors.append(f"scenario {key}: {message}")
        (bench.work_dir / f"scenario{key}-error.txt").write_text(traceback.format_exc())
        bench.add(key, "scenario could not complete", message[:400], result="ERROR")


def _with_stack(step, workers):
    def run_step(bench):
        bench.ensure_stack(workers=workers)
        step(bench)
    return run_step


def run_plan(bench, run):
    for key, stack, step in PLAN:
        if key not in bench.args.selected:
            continue
        print(f"\nscenario {key}: {TITLES[key]} ...", flush=True)
        if stack is None:
            bench.stop_stack()
        attempt(bench, run, key, step if stack is None else _with_stack(step, workers=stack != "web"))
    bench.stop_stack()


def _on_signal(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    check_loopback_url(args.database_url, "--database-url")
    check_loopback_url(args.redis_url, "--redis-url")
    if "bench" not in database_name(args.database_url):
        raise SystemExit(f"--database-url: the database name must contain 'bench' (its schema is dropped on "
                         f"every run), got {database_name(args.database_url)!r}")
    set_authentication(args.authentication)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    run = report.Run(args, datetime.now(timezone.utc).replace(tzinfo=None))
    size = f"N{args.jobs}" if set(args.selected) & set(MAIN + CURVE) else f"recovery-N{args.recovery_jobs}"
    work_dir = WORK_ROOT / f"{run.started:%Y%m%d-%H%M%S}-{size}"
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"benchmark: N={args.jobs:,}, scenarios {','.join(args.selected)}; logs in {work_dir}", flush=True)
    sampler = MemorySampler().start()
    printed = {"scenario": None}

    def on_row(row):
        if printed["scenario"] != row.scenario:
            printed["scenario"] = row.scenario
            print(f"\n## Scenario {row.scenario}: {TITLES[row.scenario]}\n" + "\n".join(report.table_header()),
                  flush=True)
        print(report.table_line(row, run.tag, report.row_size(args, row.scenario)), flush=True)

    bench = Bench(args, work_dir, sampler, on_row)
    try:
        datagen.ensure_database(args.database_url)
        run.info, run.tag = report.machine_info(args.database_url, args.redis_url)
        print(f"machine: {run.tag}; PostgreSQL {run.info['PostgreSQL']}; load average "
              f"{run.info['load average at start']}", flush=True)
        if set(args.selected) & set(MAIN + CURVE):
            prepare_data(bench)
        run_plan(bench, run)
        run.completed = True
    finally:
        finish(bench, run, sampler)
    return 1 if run.errors else 0


def finish(bench, run, sampler):
    """Stop everything started, then write the report (an interrupted run never replaces the
    sections of a complete one) and the run's JSON summary."""
    for cleanup in (bench.stop_stack, lambda: recovery.close_environment(bench)):
        try:
            cleanup()
        except Exception as exc:  # noqa: BLE001 - keep cleaning up
            run.errors.append(f"cleaning up: {exc}")
    stop_all()
    sampler.stop()
    run.finished = datetime.now(timezone.utc).replace(tzinfo=None)
    run.info["load average at end"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    if not run.completed:
        run.errors.append("the run was interrupted; the figures above are partial")
    output = write_report(bench, run)
    date = f"{run.started:%Y-%m-%d %H:%M}"
    if run.completed and bench.memory:
        s5_memory.save_peaks(bench, date)
    (bench.work_dir / "summary.json").write_text(json.dumps(
        {"date": date, "jobs": bench.n, "completed": run.completed, "memory": bench.memory,
         "rows": [row.__dict__ for row in bench.rows]}, indent=1, default=str))
    counts = {verdict: sum(1 for row in bench.rows if row.result == verdict) for verdict in ("PASS", "FAIL", "ERROR")}
    print(f"\n{'' if run.completed else 'INTERRUPTED: '}{counts['PASS']} PASS, {counts['FAIL']} FAIL, "
          f"{counts['ERROR']} ERROR in {(run.finished - run.started).total_seconds() / 60:.1f} min; "
          f"report: {output}", flush=True)


def write_report(bench, run):
    args, selected = run.args, run.args.selected
    updates = {}
    main_keys = [key for key in selected if key in MAIN]
    recovery_keys = [key for key in selected if key in RECOVERY]
    if main_keys:
        updates[f"N{args.jobs}"] = report.render_main(bench, run, main_keys)
    if "7" in selected:
        updates[f"N{args.jobs}-curve"] = report.render_curve(bench, run)
    if recovery_keys:
        updates["recovery"] = report.render_recovery(bench, run, recovery_keys)
    reported = ((not (main_keys or "7" in selected) or args.jobs in report.REPORTED_N)
                and (not recovery_keys or args.recovery_jobs == RECOVERY_JOBS))
    if not run.completed:
        output = bench.work_dir / "RESULTS-partial.md"
    elif args.output:
        output = Path(args.output)
    else:
        output = RESULTS_PATH if reported else bench.work_dir / "RESULTS.md"
    report.write_results(output, updates)
    return output


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        sys.exit(130)
