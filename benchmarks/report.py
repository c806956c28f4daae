"""The report: the machine, the console table, and benchmarks/RESULTS.md.

RESULTS.md is made of sections, each between ``<!-- section: KEY -->`` markers; a run replaces
only its own: ``N100000`` (scenarios 1-6 and 8 at that N), ``N100000-curve`` (scenario 7), likewise
for N = 1,000,000, and ``recovery`` (R1-R3), and keeps every other section, among them
``analysis``, which no run writes (it is edited by hand).
"""

import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime

import redis

from benchmarks.common import ROOT, BenchError
from benchmarks.db import connection, database_name, scalar
from benchmarks.scenarios import TITLES

COLUMNS = ("machine", "N", "figure", "value", "baseline", "baseline value", "ratio", "target", "result")
REPORTED_N = (100_000, 1_000_000)
PG_SETTINGS = ("shared_buffers", "max_wal_size", "work_mem", "maintenance_work_mem", "effective_cache_size",
               "synchronous_commit", "random_page_cost", "checkpoint_timeout", "max_connections", "jit")
SECTION = re.compile(r"<!-- section: (?P<key>[\w.-]+) -->\n(?P<body>.*?)<!-- /section: (?P=key) -->\n?", re.S)
SECTION_ORDER = ("analysis", "N100000", "N100000-curve", "N1000000", "N1000000-curve", "recovery")
RESULTS_INTRO = """# jobservice benchmark results

`python -m benchmarks.run` writes this file in sections: a run replaces the sections of its N
(scenarios 1-6 and 8 in one, the curve of scenario 7 in another) and keeps the others, so a full
100k run and a 1M run of scenarios 1 and 5 stand side by side, each with its date, machine and
settings; `make bench-recovery` writes the recovery section (R1-R3). "Targets and what limits
them" is written by hand from the runs below.
"""


@dataclass
class Run:
    """What a section says about the run besides its rows."""

    args: object
    started: datetime
    finished: datetime = None
    info: dict = field(default_factory=dict)
    tag: str = "this machine"
    errors: list = field(default_factory=list)
    completed: bool = False


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


def _git_state():
    head = _git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [line[3:] for line in _git("status", "--porcelain").splitlines()
               if line[3:] and not line[3:].startswith("benchmarks/")]
    if not changed:
        return head
    return (f"{head} + uncommitted changes in {len(changed)} files outside benchmarks/ "
            f"({', '.join(changed[:8])}{', ...' if len(changed) > 8 else ''})")


def machine_info(database_url, redis_url):
    """({name: value}, short tag) of this machine and the shared servers."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    info = {"nproc": os.cpu_count(), "cpu": cpu, "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "kernel": platform.release(), "python": platform.python_version(),
            "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg())}
    with connection(database_url) as conn:
        info["PostgreSQL"] = scalar(conn, "SHOW server_version")
        info.update({f"pg {name}": scalar(conn, f"SHOW {name}") for name in PG_SETTINGS})
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
        info["Redis"] = client.info("server").get("redis_version")
        client.close()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {redis_url} does not answer: {exc}") from None
    info["git"] = _git_state()
    return info, f"{info['nproc']} cpu {' '.join(cpu.split()[:2])}, {mem_kb / 1024 / 1024:.0f} GiB"


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_header():
    return ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]


def row_size(args, scenario):
    """The N of a row: the recovery scenarios have data of their own."""
    return args.recovery_jobs if scenario.startswith("R") else args.jobs


def table_line(row, tag, n):
    cells = (tag, f"{n:,}", row.figure, row.value, row.baseline, row.baseline_value, row.ratio, row.target,
             f"**{row.result}**" if row.result in ("FAIL", "ERROR") else row.result)
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _key_value_table(values):
    return ["| | |", "|---|---|"] + [f"| {_cell(key)} | {_cell(value)} |" for key, value in values.items()]


def _run_lines(run, counts=None):
    args = run.args
    lines = [f"- Date: {run.started:%Y-%m-%d %H:%M} UTC, {(run.finished - run.started).total_seconds() / 60:.1f} "
             "minutes",
             f"- N = {args.jobs:,} jobs; scenarios {', '.join(args.selected)} in this run",
             f"- Command: `{' '.join(['.venv/bin/python -m benchmarks.run'] + sys.argv[1:])}`"]
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


def _counts(rows):
    return {verdict: sum(1 for row in rows if row.result == verdict) for verdict in ("PASS", "FAIL", "ERROR")}


def scenario_blocks(bench, run, keys):
    """Per scenario: its title, its table, its notes."""
    lines = []
    for key in keys:
        lines += [f"### Scenario {key}: {TITLES[key]}", ""]
        rows = [row for row in bench.rows if row.scenario == key]
        size = row_size(run.args, key)
        lines += table_header() + [table_line(row, run.tag, size) for row in rows] if rows else ["(no rows)"]
        notes = bench.details.get(key, [])
        lines += ([""] + _note_lines(notes) if notes else []) + [""]
    return lines


def _missed(rows):
    failed = [row for row in rows if row.result in ("FAIL", "ERROR")]
    if not failed:
        return []
    return (["Targets missed or not measured:", ""]
            + [f"- scenario {row.scenario}, {row.figure}: {row.value} ({row.result}; target {row.target or 'n/a'})"
               for row in failed] + [""])


def _data_lines(facts):
    if not facts:
        return []
    timings = facts["timings"]
    return [f"- {facts['jobs']:,} jobs ({facts['failed']:,} failed with incidents, {facts['suspended']:,} suspended, "
            f"{facts['timers']:,} timers), {facts['job_definitions']:,} job definitions; `job` table "
            f"{facts['job_table_bytes'] / 2**20:.0f} MB, with indexes {facts['job_total_bytes'] / 2**20:.0f} MB",
            "- Load: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            + f"; total {sum(timings.values()):.1f} s (one INSERT ... SELECT generate_series each, then "
              "VACUUM ANALYZE and CHECKPOINT)",
            "- What the rows look like: see the docstring of benchmarks/datagen.py."]


SETTINGS_TEXT = ("Web and workers run the Procfile's lines (`sh -c`, `APP_ENV=production`; benchmarks/procfile.py), "
                 "with two changes: the web binds 127.0.0.1 instead of 0.0.0.0, and each worker gets a node name "
                 "(`-n benchK-<tag>@%h`). Each start gets its own `PORT` and `JOB_QUEUE`. Scenarios 2, 6 and 7 "
                 "change some of these settings for their own restarts, and say so. The values below are read by "
                 "benchmarks/settings_probe.py (the harness's one in-process probe) and, for the command lines, "
                 "by the shell.")


def render_main(bench, run, keys):
    """The section of scenarios 1-6 and 8 of this run."""
    rows = [row for row in bench.rows if row.scenario in keys]
    lines = [f"## N = {run.args.jobs:,}: scenarios {', '.join(keys)}", ""]
    if run.args.jobs not in REPORTED_N:
        lines += [f"**SMOKE RUN at N={run.args.jobs:,}**: a check that the harness works end to end, not the "
                  "reported figures (those come from `make bench` / `make bench-1m`).", ""]
    lines += _run_lines(run, _counts(rows)) + [
        "- How to reproduce: `make bench` (N = 100k) or `make bench-1m` (N = 1M), i.e. "
        "`.venv/bin/python -m benchmarks.run [--jobs 1000000] [--scenarios ...]`, with PostgreSQL on 127.0.0.1:5432 "
        f"and Redis on 127.0.0.1:6379; the database `{database_name(run.args.database_url)}` is rebuilt on every "
        "run.", ""]
    lines += _missed(rows)
    lines += ["### Machine", ""] + _key_value_table(run.info)
    lines += ["", "### Settings in force", "", SETTINGS_TEXT, ""] + _key_value_table(bench.settings)
    lines += ["", "### Data", ""] + _data_lines(bench.facts) + [""]
    lines += scenario_blocks(bench, run, keys)
    if run.errors:
        lines += ["### Errors", ""] + [f"- {error}" for error in run.errors] + [""]
    return "\n".join(lines)


def _machine_line(run, other_settings):
    info = run.info
    return (f"- Machine: {run.tag}; PostgreSQL {info.get('PostgreSQL')}; load average at start "
            f"{info.get('load average at start')}, at end {info.get('load average at end')}; git {info.get('git')}."
            f" {other_settings}")


def render_curve(bench, run):
    """The section of scenario 7: the curve's own table (its rows are the console's)."""
    lines = [f"## N = {run.args.jobs:,}: scenario 7, {TITLES['7'].split(': ', 1)[1]}", ""] + _run_lines(run)
    lines += [_machine_line(run, f"Other settings as in the N = {run.args.jobs:,} section."), ""]
    if bench.curve:
        curve = bench.curve
        lines += ["Fastest of each stage: " + "; ".join(
            f"{stage}: {key} = {value} ({seconds:.2f} s)" for stage, key, value, seconds in curve["stages"])
            + f". Fastest point: {curve['fastest']['seconds']:.2f} s vs {curve['default']['seconds']:.2f} s at the "
              f"current defaults; the whole curve took {curve['elapsed'] / 60:.1f} minutes.", ""]
    lines += _note_lines(bench.details.get("7", []))
    errors = [error for error in run.errors if error.startswith("scenario 7")]
    if errors:
        lines += ["", "### Errors", ""] + [f"- {error}" for error in errors]
    return "\n".join(lines + [""])


def render_recovery(bench, run, keys):
    """The section of the recovery scenarios: their environment, tables and notes."""
    rows = [row for row in bench.rows if row.scenario in keys]
    args = run.args
    lines = [f"## Recovery: scenarios {', '.join(keys)} ({args.recovery_jobs:,} jobs, private servers)", ""]
    counts = _counts(rows)
    lines += [line for line in _run_lines(run, counts) if not line.startswith("- N = ")]
    lines += [_machine_line(run, "The shared servers are not used: see the environment below."),
              "- How to reproduce: `make bench-recovery` (`--scenarios R1,R2,R3`; `--recovery-env "
              "JOB_LOCK_TIME_SECONDS=30` and the other `--recovery-*` options change the set-up).", ""]
    lines += _missed(rows)
    lines += ["### Environment", ""] + _key_value_table(bench.recovery_description or {}) + [""]
    lines += scenario_blocks(bench, run, keys)
    errors = [error for error in run.errors if error.split(":")[0].replace("scenario ", "") in keys]
    if errors:
        lines += ["### Errors", ""] + [f"- {error}" for error in errors] + [""]
    return "\n".join(lines)


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
