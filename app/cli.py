"""``flask --app app jobs ...``: operator commands over the same service code as the REST API."""

import json
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core.errors import ApiError
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES
from app.extensions import db
from app.services.batches.engine import create_batch
from app.services.batches.preview import preview_set_retries
from app.services.batches.query import element_progress, get_batch, get_historic_batch, list_batch_statistics
from app.services.demo import create_demo_jobs
from app.services.job_log import batch_outcome
from schemas.batch import batch_dto, batch_statistics_dto, historic_batch_dto
from schemas.batch_query import BatchQuery
from schemas.job_retries import SetJobRetriesSchema


@click.group("jobs")
def jobs_cli():
    """Manage jobs and batches."""


@jobs_cli.command("demo")
@click.option("--count", default=500, show_default=True, type=click.IntRange(1, 10_000_000),
              help="How many demo jobs to create.")
@click.option("--seed", type=int, default=None, help="Random seed, for repeatable data.")
@with_appcontext
def demo(count, seed):
    """Create realistic, varied demo jobs."""
    created = create_demo_jobs(count, seed)
    click.echo(f"created {created} demo jobs")


# --- batches ------------------------------------------------------------------------------

def _output_zone():
    return current_app.config["OUTPUT_TIMEZONE"]


def _wait(seconds):
    time.sleep(seconds)


def _json_option(value):
    """``--query`` takes JSON, or ``@file`` holding it."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            with open(value[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise click.ClickException(f"cannot read {value[1:]}: {error.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise click.ClickException(f"--query is not valid JSON: {error}") from None


def _progress_line(progress, width=30):
    """One line of a batch's progress, counted in the jobs it works on (its elements)."""
    total, done = progress["elements"], progress["done"]
    share = done / total if total else 1.0
    filled = min(width, int(width * share))
    state = "  (suspended)" if progress["suspended"] else ""
    return (f"[{'#' * filled}{'-' * (width - filled)}] {int(100 * share):3d}%  "
            f"{done}/{total} jobs completed, {progress['failed']} failed, "
            f"{progress['skipped']} skipped{state}")


def watch_batch(batch_id, interval=0.5, out=None):
    """Render the batch's progress until it leaves the runtime table; returns its historic row."""
    out = out or sys.stdout
    live = out.isatty()
    last = None
    while True:
        progress = element_progress(batch_id)
        db.session.rollback()  # end the read: the next poll sees the workers' commits
        if progress is None:
            break
        line = _progress_line(progress)
        if live:
            out.write("\r" + line.ljust(len(last or "")))
            out.flush()
        elif line != last:
            out.write(line + "\n")
        last = line
        _wait(interval)
    historic = get_historic_batch(batch_id)
    db.session.rollback()
    if historic is not None:
        elements = historic["element_count"]
        done = {"elements": elements, "done": elements, "failed": 0,
                "skipped": historic["skipped_elements"], "suspended": False}
        line = _progress_line(done)
        out.write(("\r" + line.ljust(len(last or "")) if live else line) + "\n")
    elif live and last:
        out.write("\n")
    out.flush()
    return historic


def _outcome_lines(outcome):
    """A set-retries batch's outcome (spec A19) as a few lines a person reads."""
    lines = [f"outcome: {outcome['updated']} jobs revived ({outcome['skipped']} skipped): "
             f"{outcome['succeeded']} succeeded, {outcome['failedAgain']} failed again, "
             f"{outcome['pending']} not run yet"]
    lines += [f"  {failure['count']:>8}  {failure['message']}" for failure in outcome["newFailures"]]
    return lines


def _watch_then_print_history(batch_id, interval, zone, outcome=False):
    """``--watch`` and ``watch``: progress until the batch completes, then the historic batch
    (and, for ``retries --watch``, the outcome so far: what the revived jobs did since)."""
    try:
        historic = watch_batch(batch_id, interval)
    except KeyboardInterrupt:
        click.echo("\nstopped watching; the batch goes on", err=True)
        sys.exit(130)
    if historic is None:
        raise click.ClickException(f"batch {batch_id} was deleted together with its history")
    click.echo(json.dumps(historic_batch_dto(historic, zone), indent=2))
    if outcome:
        result = batch_outcome(batch_id)
        db.session.rollback()
        if result is not None:
            for line in _outcome_lines(result):
                click.echo(line)


@jobs_cli.command("retries")
@click.option("--retries", "retries", default=None, metavar="N",
              help="Retries to set on every selected job (required; 0 or more).")
@click.option("--ids", default=None, metavar="ID,ID,...", help="Comma-separated job ids.")
@click.option("--query", default=None, metavar="JSON",
              help='A job query as for POST /job, e.g. \'{"noRetriesLeft": true}\', or @file.json.')
@click.option("--due-date", default=None, metavar="DATE",
              help="Also set this due date, e.g. 2030-01-31T12:00:00.000+0000.")
@click.option("--clear-due-date", is_flag=True, help="Also set the due dates to null.")
@click.option("--spread", default=None, metavar="SECONDS",
              help="Spread the revived jobs' due dates evenly from now over SECONDS (not with a due date).")
@click.option("--preview", is_flag=True,
              help="Print what the batch would select (as POST /job/retries/preview) and write nothing.")
@click.option("--watch", is_flag=True, help="Show the batch's progress until it completes (needs a worker).")
@click.option("--interval", default=0.5, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between progress polls with --watch.")
@with_appcontext
def set_retries(retries, ids, query, due_date, clear_due_date, spread, preview, watch, interval):
    """Set job retries asynchronously: create a set-job-retries batch, as POST /job/retries does.

    Prints the batch; with --watch, its progress, then the historic batch and the outcome: how
    many revived jobs have succeeded, failed again (top new messages) or not run yet. With
    --preview, prints what the batch would select and exits without writing anything.
    """
    if due_date is not None and clear_due_date:
        raise click.UsageError("use --due-date or --clear-due-date, not both")
    if preview and watch:
        raise click.UsageError("use --preview or --watch, not both")
    body = {"retries": retries}
    if spread is not None:
        body["dueDateSpreadSeconds"] = spread
    if ids is not None:
        body["jobIds"] = [part.strip() for part in ids.split(",") if part.strip()]
    job_query = _json_option(query)
    if job_query is not None:
        body["jobQuery"] = job_query
    if due_date is not None:
        body["dueDate"] = due_date
    elif clear_due_date:
        body["dueDate"] = None
    try:
        loaded = SetJobRetriesSchema().load(body)
        if preview:
            click.echo(json.dumps(preview_set_retries(loaded), indent=2))
            return
        batch = create_batch(BATCH_TYPE_SET_JOB_RETRIES, loaded)
    except ApiError as error:
        raise click.ClickException(error.message) from None
    zone = _output_zone()
    click.echo(json.dumps(batch_dto(batch, zone), indent=2))
    if watch:
        _watch_then_print_history(batch["id"], interval, zone, outcome=True)


@jobs_cli.command("watch")
@click.argument("batch_id")
@click.option("--interval", default=0.5, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between progress polls.")
@with_appcontext
def watch_existing_batch(batch_id, interval):
    """Watch an existing batch until it completes, then print the historic batch.

    Progress counts the jobs the batch works on. A batch that has already completed is shown
    at once. Needs a running worker to make progress (make run starts one).
    """
    known = get_batch(batch_id) is not None or get_historic_batch(batch_id) is not None
    db.session.rollback()
    if not known:
        raise click.ClickException(f"no batch with id '{batch_id}' (neither running nor in the history)")
    _watch_then_print_history(batch_id, interval, _output_zone())


@jobs_cli.command("outcome")
@click.argument("batch_id")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /history/batch/{id}/outcome.")
@with_appcontext
def show_outcome(batch_id, as_json):
    """What became of the jobs a set-retries batch revived: succeeded, failed again (with the
    most frequent new exception messages) or not run yet, from the job log."""
    try:
        result = batch_outcome(batch_id)
    except ApiError as error:
        raise click.ClickException(error.message) from None
    finally:
        db.session.rollback()
    if result is None:
        raise click.ClickException(f"no historic batch with id '{batch_id}'")
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for line in _outcome_lines(result):
        click.echo(line)


@jobs_cli.command("batches")
@click.option("--json", "as_json", is_flag=True, help="Print BatchStatisticsDto JSON instead of a table.")
@with_appcontext
def list_batches(as_json):
    """List the runtime batches with their statistics (as GET /batch/statistics)."""
    zone = _output_zone()
    batches = [batch_statistics_dto(row, zone) for row in list_batch_statistics(BatchQuery())]
    if as_json:
        click.echo(json.dumps(batches, indent=2))
        return
    if not batches:
        click.echo("no runtime batches")
        return
    header = ("ID", "TYPE", "STATE", "TOTAL", "CREATED", "DONE", "LEFT", "FAILED", "SKIPPED", "STARTED")
    rows = [(b["id"], b["type"], "suspended" if b["suspended"] else "active", b["totalJobs"], b["jobsCreated"],
             b["completedJobs"], b["remainingJobs"], b["failedJobs"], b["skippedElements"], b["startTime"])
            for b in batches]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(value).ljust(width) for value, width in zip(row, widths)).rstrip())
