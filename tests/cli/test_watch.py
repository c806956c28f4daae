"""``flask --app app jobs watch <batchId>``, and the progress it shows, counted in jobs.

No worker runs here: where a batch must move, the executor service runs its jobs in the test
process, either before the command or from the command's poll (``app.cli._wait``).
"""

import json

import pytest
from sqlalchemy import delete, select

from app.core.names import HANDLER_BATCH_SEED
from app.extensions import db
from app.models import Job
from app.services.batches.query import element_progress
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job
from tests.support import set_job_columns

TARGET = "test.cli-target"  # no handler: only the batch's own jobs are ever acquired


@pytest.fixture
def new_batch(app, client, make_jobs, monkeypatch):
    """A set-retries batch over ``targets`` new jobs plus ``missing`` ids that match no job."""

    def create(targets, missing=(), per_slice=1000):
        monkeypatch.setitem(app.config, "INVOCATIONS_PER_BATCH_JOB", per_slice)
        monkeypatch.setitem(app.config, "INVOCATIONS_PER_BATCH_JOB_BY_TYPE", {})
        ids = [job["id"] for job in make_jobs(*[{} for _ in range(targets)], handlerType=TARGET)]
        response = client.post("/engine-rest/job/retries", json={"retries": 5, "jobIds": ids + list(missing)})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return create


def run_jobs(limit=100, handler_types=None):
    """Acquire and run up to ``limit`` of the batch's jobs; returns how many ran."""
    acquired = acquire_jobs(limit=limit, handler_types=handler_types)
    for job_id, token, revision in acquired:
        execute_job(job_id, token, revision)
    return len(acquired)


def no_waiting(seconds):
    raise AssertionError("watch polled a batch that had already completed")


def test_watch_of_a_completed_batch_prints_its_history_at_once(app, client, cli, new_batch, monkeypatch):
    batch = new_batch(3, missing=["gone"], per_slice=2)
    with app.app_context():
        while run_jobs():
            pass
        db.session.remove()
    historic = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert historic["endTime"] is not None

    monkeypatch.setattr("app.cli._wait", no_waiting)
    result = cli("watch", batch["id"])

    assert result.exit_code == 0, result.output
    progress, _, rest = result.output.partition("\n")
    assert progress == "[##############################] 100%  4/4 jobs completed, 0 failed, 1 skipped"
    assert json.loads(rest) == historic


@pytest.mark.parametrize("batch_id", ["no-such-batch", "a\x00b"])
def test_watch_of_an_unknown_batch_is_a_clean_error(cli, batch_id):
    result = cli("watch", batch_id)
    assert result.exit_code == 1
    assert result.output == f"Error: no batch with id '{batch_id}' (neither running nor in the history)\n"
    assert isinstance(result.exception, SystemExit)  # click's own exit, not a crash


def test_watch_counts_jobs_not_execution_jobs(app, cli, new_batch, monkeypatch):
    # 7 jobs and 1 missing id in slices of 3: execution jobs of 3, 3 and 2 elements.
    batch = new_batch(7, missing=["gone"], per_slice=3)
    assert batch["totalJobs"] == 3

    def one_job_per_poll(seconds):
        assert run_jobs(limit=1), "the batch stalled while being watched"

    monkeypatch.setattr("app.cli._wait", one_job_per_poll)
    result = cli("watch", batch["id"], "--interval", "0.05")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    bars = [line for line in lines if line.startswith("[")]
    done = [int(line.split("%  ")[1].split("/")[0]) for line in bars]
    assert bars[0].endswith("0/8 jobs completed, 0 failed, 0 skipped")
    assert bars[-1] == "[##############################] 100%  8/8 jobs completed, 0 failed, 1 skipped"
    # Only whole slices finish: every count is a sum of slice sizes, and it only grows.
    assert set(done) <= {0, 2, 3, 5, 6, 8} and done == sorted(done) and len(set(done)) == 4
    assert json.loads("\n".join(lines[len(bars):]))["elements"] == 8


def test_progress_counts_the_short_last_slice_by_its_size(app, app_context, new_batch):
    batch = new_batch(8, per_slice=3)  # slices 0, 1, 2 of 3, 3 and 2 jobs

    def progress():
        value = element_progress(batch["id"])
        db.session.rollback()
        return value["done"], value["failed"]

    assert progress() == (0, 0)
    assert run_jobs(handler_types=[HANDLER_BATCH_SEED]) == 1  # creates the three execution jobs
    job = Job.__table__
    rows = db.session.execute(select(job.c.id, job.c.handler_configuration)
                              .where(job.c.job_definition_id == batch["batchJobDefinitionId"])).all()
    db.session.rollback()
    by_slice = {row.handler_configuration["slice"]: row.id for row in rows}
    assert sorted(by_slice) == [0, 1, 2] and progress() == (0, 0)

    set_job_columns(app, by_slice[2], retries=0)
    assert progress() == (0, 2)
    set_job_columns(app, by_slice[0], retries=0)
    assert progress() == (0, 5)
    # A finished execution job is a deleted one.
    db.session.execute(delete(job).where(job.c.id == by_slice[2]))
    db.session.commit()
    assert progress() == (2, 3)
    db.session.execute(delete(job).where(job.c.id == by_slice[1]))
    db.session.commit()
    assert progress() == (5, 3)
