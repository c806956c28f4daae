"""``GET /history/batch/{id}/outcome`` (A19): what became of the jobs a set-retries batch revived."""

import pytest
from sqlalchemy import insert

from app.core.dates import utcnow
from app.extensions import db
from app.models import HistoricBatch
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job
from tests.support import drain_jobs

FAR_FUTURE = "2999-01-01T00:00:00.000+0000"


@pytest.fixture
def config(app):
    keys = ("JOB_RETRY_DELAY_SECONDS", "INVOCATIONS_PER_BATCH_JOB", "INVOCATIONS_PER_BATCH_JOB_BY_TYPE")
    saved = {key: app.config[key] for key in keys}
    app.config.update(JOB_RETRY_DELAY_SECONDS=0.0, INVOCATIONS_PER_BATCH_JOB=2, INVOCATIONS_PER_BATCH_JOB_BY_TYPE={})
    yield app.config.update
    app.config.update(saved)


def dead_jobs(make_jobs, count, handler_type, message=None):
    """Jobs that failed for good (0 retries) and, once revived, succeed or fail with ``message``."""
    configuration = {"failUntil": FAR_FUTURE, "message": message} if message else {}
    return [job["id"] for job in make_jobs(*[{} for _ in range(count)], handlerType=handler_type, retries=0,
                                           handlerConfiguration=configuration, exceptionMessage="first failure")]


def run_everything(app):
    with app.app_context():
        drain_jobs()
        db.session.remove()


def outcome(client, batch_id):
    return client.get(f"/engine-rest/history/batch/{batch_id}/outcome")


def test_the_outcome_counts_successes_failures_and_pending_jobs(app, client, make_jobs, config):
    healed = dead_jobs(make_jobs, 3, "demo.noop")
    disk = dead_jobs(make_jobs, 2, "demo.fail-until", message="disk full")
    timeout = dead_jobs(make_jobs, 1, "demo.fail-until", message="timeout")
    unserved = dead_jobs(make_jobs, 2, "test.unserved")
    ids = healed + disk + timeout + unserved + ["no-such-job"]
    batch = client.post("/engine-rest/job/retries", json={"jobIds": ids, "retries": 1}).get_json()
    before = outcome(client, batch["id"])
    assert before.status_code == 200
    assert before.get_json() == {"elements": 9, "updated": 9, "skipped": 0, "succeeded": 0, "failedAgain": 0,
                                 "pending": 9, "newFailures": []}
    run_everything(app)
    response = outcome(client, batch["id"])
    assert response.status_code == 200
    assert response.get_json() == {
        "elements": 9, "updated": 8, "skipped": 1, "succeeded": 3, "failedAgain": 3, "pending": 2,
        "newFailures": [{"message": "disk full", "count": 2}, {"message": "timeout", "count": 1}],
    }
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["endTime"] is not None


def test_a_later_batch_takes_the_jobs_it_revives_over(app, client, make_jobs, config):
    jobs = dead_jobs(make_jobs, 2, "demo.fail-until", message="still broken")
    first = client.post("/engine-rest/job/retries", json={"jobIds": jobs, "retries": 1}).get_json()
    run_everything(app)
    second = client.post("/engine-rest/job/retries", json={"jobIds": jobs[:1], "retries": 1}).get_json()
    run_everything(app)
    assert outcome(client, first["id"]).get_json()["failedAgain"] == 2
    second_outcome = outcome(client, second["id"]).get_json()
    assert (second_outcome["failedAgain"], second_outcome["newFailures"]) == (
        1, [{"message": "still broken", "count": 1}])


def test_an_unknown_batch_is_404_and_another_type_is_400(app, client):
    response = outcome(client, "nope")
    assert response.status_code == 404
    assert response.get_json() == {"type": "InvalidRequestException",
                                   "message": "Historic batch with id 'nope' does not exist", "code": None}
    with app.app_context():
        db.session.execute(insert(HistoricBatch.__table__).values(
            id="other", type="process-set-removal-time", total_jobs=1, batch_jobs_per_seed=1,
            invocations_per_batch_job=1, start_time=utcnow()))
        db.session.commit()
        db.session.remove()
    response = outcome(client, "other")
    assert response.status_code == 400
    assert response.get_json()["message"] == ("Historic batch 'other' is a process-set-removal-time batch: an "
                                              "outcome is kept for set-job-retries batches only")


def test_retries_set_by_hand_after_the_batch_take_the_job_out_of_its_outcome(app, client, make_jobs, config):
    jobs = dead_jobs(make_jobs, 2, "demo.fail-until", message="broken")
    batch = client.post("/engine-rest/job/retries", json={"jobIds": jobs, "retries": 1}).get_json()
    with app.app_context():
        # Only the batch's own jobs: the revived jobs wait.
        for handler_type in ("batch-seed-job", "set-job-retries", "batch-monitor-job"):
            while run_one_of(handler_type):
                pass
        db.session.remove()
    assert client.put(f"/engine-rest/job/{jobs[0]}/retries", json={"retries": 1}).status_code == 204
    run_everything(app)
    result = outcome(client, batch["id"]).get_json()
    assert (result["failedAgain"], result["pending"], result["newFailures"]) == (
        1, 1, [{"message": "broken", "count": 1}])


def run_one_of(handler_type):
    acquired = acquire_jobs(limit=1, handler_types=[handler_type])
    for job_id, token, revision in acquired:
        execute_job(job_id, token, revision)
    return len(acquired)
