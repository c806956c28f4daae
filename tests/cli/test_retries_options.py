"""``flask jobs retries --preview`` and ``--spread`` (A20)."""

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, Job
from tests.support import drain_jobs

TARGET = "test.cli-target"  # no handler: only the batch's own jobs are ever acquired


def count(app, model):
    with app.app_context():
        value = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return value


def test_preview_prints_the_selection_and_writes_nothing(app, cli, make_jobs):
    failed = [job["id"] for job in make_jobs({}, {}, handlerType=TARGET, retries=0, exceptionMessage="boom")]
    make_jobs({}, handlerType=TARGET, retries=2)
    result = cli("retries", "--retries", "3", "--query", '{"noRetriesLeft": true}', "--ids", "gone", "--preview")
    assert result.exit_code == 0, result.output
    preview = json.loads(result.output)
    assert preview["count"] == 2 and preview["missingJobIds"] == ["gone"]
    assert preview["byExceptionMessage"] == [{"value": "boom", "count": 2}]
    assert sorted(preview["sampleJobIds"]) == sorted(failed)
    assert count(app, Batch) == 0


def test_preview_reports_request_errors(app, cli):
    result = cli("retries", "--retries", "3", "--query", '{"noRetriesLef": true}', "--preview")
    assert result.exit_code == 1 and "Unknown property 'noRetriesLef' in jobQuery" in result.output
    result = cli("retries", "--retries", "3", "--ids", "a", "--preview", "--watch")
    assert result.exit_code == 2 and "use --preview or --watch, not both" in result.output
    assert count(app, Batch) == 0


def test_spread_sets_even_due_dates(app, cli, make_jobs):
    ids = [job["id"] for job in make_jobs({}, {}, {}, {}, handlerType=TARGET, retries=0)]
    result = cli("retries", "--retries", "1", "--ids", ",".join(ids), "--spread", "40")
    assert result.exit_code == 0, result.output
    batch = json.loads(result.output)
    assert batch["type"] == "set-job-retries"
    with app.app_context():
        drain_jobs()
        due = sorted(db.session.execute(select(Job.__table__.c.due_date).where(Job.__table__.c.id.in_(ids)))
                     .scalars())
        db.session.remove()
    assert [(later - earlier).total_seconds() for earlier, later in zip(due, due[1:])] == [10.0, 10.0, 10.0]


def test_spread_refusals(app, cli):
    result = cli("retries", "--retries", "1", "--ids", "a", "--spread", "60", "--due-date", "2030-01-01T00:00:00Z")
    assert result.exit_code == 1 and "dueDateSpreadSeconds cannot be used together with dueDate" in result.output
    result = cli("retries", "--retries", "1", "--ids", "a", "--spread", "0")
    assert result.exit_code == 1 and "dueDateSpreadSeconds must be between 1 and 2592000, got 0" in result.output
    assert count(app, Batch) == 0
