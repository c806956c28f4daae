"""The executor's service functions, driven synchronously (no broker, no worker)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.dates import utcnow
from app.extensions import db
from app.models import Incident, Job, JobDefinition, JobStacktrace
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job


def job_row(job_id):
    db.session.rollback()
    return db.session.execute(select(Job).where(Job.id == job_id)).scalar_one_or_none()


@pytest.fixture
def ctx(app_context):
    yield


def test_acquisition_takes_only_executable_jobs_of_served_types_in_priority_order(client, make_jobs, ctx):
    now = utcnow()
    jobs = make_jobs(
        {"id": "low", "priority": 1},
        {"id": "high", "priority": 90},
        {"id": "mid", "priority": 50},
        {"id": "failed", "retries": 0},
        {"id": "future", "dueDate": (now + timedelta(hours=1)).isoformat() + "Z"},
        {"id": "suspended", "suspended": True},
        {"id": "unserved", "handlerType": "nobody.serves.this"},
        {"id": "def-suspended", "processDefinitionKey": "frozen"},
    )
    assert len(jobs) == 8
    db.session.execute(update(JobDefinition).where(JobDefinition.process_definition_key == "frozen")
                       .values(suspended=True))
    db.session.commit()
    acquired = acquire_jobs(limit=10)
    assert [job_id for job_id, _, _ in acquired] == ["high", "mid", "low"]
    tokens = {token for _, token, _ in acquired}
    assert len(tokens) == 1
    row = job_row("high")
    assert row.lock_owner == tokens.pop() and row.lock_expiration_time > utcnow()
    assert acquire_jobs(limit=10) == [], "locked jobs are not acquired twice"


def test_an_expired_lock_is_acquired_again_and_the_old_holder_does_nothing(app, make_jobs, ctx):
    make_jobs({"id": "j1"})
    [(job_id, old_token, old_revision)] = acquire_jobs(limit=1)
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(lock_expiration_time=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    [(same_id, new_token, new_revision)] = acquire_jobs(limit=1)
    assert same_id == job_id and new_token != old_token and new_revision > old_revision
    assert execute_job(job_id, old_token, old_revision) == "skipped"
    assert job_row(job_id).lock_owner == new_token, "the new holder keeps its lock"
    assert execute_job(job_id, new_token, new_revision) == "done"
    assert job_row(job_id) is None


def test_a_job_changed_while_acquired_is_released_at_once_not_after_lock_expiry(client, make_jobs, ctx, dispatched):
    make_jobs({"id": "j2"})
    [(job_id, token, revision)] = acquire_jobs(limit=1)
    assert client.put(f"/engine-rest/job/{job_id}/priority", json={"priority": 7}).status_code == 204
    dispatched.clear()
    assert execute_job(job_id, token, revision) == "skipped"
    row = job_row(job_id)
    assert row is not None and row.lock_owner is None and row.priority == 7
    assert "executor.acquire" in dispatched.names()
    assert [j for j, _, _ in acquire_jobs(limit=1)] == [job_id]


def test_failure_path_decrements_records_and_creates_one_incident_at_zero(make_jobs, ctx):
    make_jobs({"id": "f", "retries": 2, "handlerType": "demo.fail-until", "activityId": "Act_1",
               "handlerConfiguration": {"message": "nope"}})
    for expected in (1, 0):
        [(job_id, token, revision)] = acquire_jobs(limit=1)
        assert execute_job(job_id, token, revision) == "failed"
        row = job_row(job_id)
        assert row.retries == expected and row.exception_message == "nope"
        assert row.failed_activity_id == "Act_1" and row.lock_owner is None
        trace = db.session.execute(select(JobStacktrace.stacktrace).where(JobStacktrace.job_id == job_id)).scalar()
        assert "RuntimeError: nope" in trace
    incidents = db.session.execute(select(Incident)).scalars().all()
    assert [(i.incident_type, i.configuration, i.incident_message) for i in incidents] == [("failedJob", "f", "nope")]
    assert acquire_jobs(limit=1) == [], "a job at 0 retries is not executable"


def test_retry_delay_pushes_the_due_date(app, make_jobs, ctx):
    make_jobs({"id": "d", "handlerType": "demo.fail-until"})
    app.config["JOB_RETRY_DELAY_SECONDS"] = 60
    try:
        [(job_id, token, revision)] = acquire_jobs(limit=1)
        before = utcnow()
        execute_job(job_id, token, revision)
        assert job_row(job_id).due_date >= before + timedelta(seconds=59)
        assert acquire_jobs(limit=1) == []
    finally:
        app.config["JOB_RETRY_DELAY_SECONDS"] = 0
