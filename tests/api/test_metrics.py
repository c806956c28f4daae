"""GET /metrics (README "Metrics", spec A22): Prometheus's text format, the state read from the
database, the executor's and the HTTP layer's events labelled by handler type and route template."""

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from app import create_app
from app.core.dates import utcnow
from app.extensions import db
from app.models import Job, Worker
from app.models.tables import job_table
from app.services.executor import workers
from app.services.executor.runtime import ExecutorRuntime
from tests.conftest import is_postgres


def scrape(client, **headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_jobs_by_state_are_counted_in_the_database(client, make_jobs, app):
    future, past = (utcnow() + timedelta(hours=1)).isoformat(), (utcnow() - timedelta(hours=1)).isoformat()
    make_jobs({"id": "e1"}, {"id": "e2"}, {"id": "f1", "retries": 0}, {"id": "s1", "suspended": True},
              {"id": "t1", "dueDate": future}, {"id": "d1", "dueDate": past}, {"id": "l1"})
    with app.app_context():
        workers.heartbeat("dead-worker")
        db.session.execute(update(Worker).values(heartbeat_at=utcnow() - timedelta(minutes=1)))
        db.session.execute(update(job_table).where(job_table.c.id == "l1")
                           .values(lock_owner="dead-worker", lock_expiration_time=utcnow() + timedelta(minutes=5)))
        db.session.commit()
        db.session.remove()
    samples = scrape(client)
    assert value(samples, "jobservice_jobs", state="executable") == 3  # e1, e2, d1
    assert value(samples, "jobservice_jobs", state="locked") == 1
    assert value(samples, "jobservice_jobs", state="held_by_dead_worker") == 1
    assert value(samples, "jobservice_jobs", state="failed") == 1
    assert value(samples, "jobservice_jobs", state="suspended") == 1
    assert value(samples, "jobservice_jobs", state="timer_due") == 1
    assert value(samples, "jobservice_jobs", state="timer_waiting") == 1
    assert value(samples, "jobservice_workers", state="dead") == 1
    assert value(samples, "jobservice_workers", state="live") == 0
    assert value(samples, "jobservice_metrics_database_seconds") > 0


def test_running_batches_and_their_remaining_elements(client, make_jobs, app):
    make_jobs(*[{"id": f"b{n}", "retries": 0} for n in range(5)])
    response = client.post("/engine-rest/job/retries", json={"jobIds": [f"b{n}" for n in range(5)], "retries": 2})
    assert response.status_code == 200, response.get_json()
    samples = scrape(client)
    assert value(samples, "jobservice_batches", type="set-job-retries", state="running") == 1
    assert value(samples, "jobservice_batches", type="set-job-retries", state="suspended") == 0
    assert value(samples, "jobservice_batch_remaining_elements", type="set-job-retries") == 5
    batch_id = response.get_json()["id"]
    assert client.put(f"/engine-rest/batch/{batch_id}/suspended", json={"suspended": True}).status_code == 204
    assert value(scrape(client), "jobservice_batches", type="set-job-retries", state="suspended") == 1
    assert client.delete(f"/engine-rest/batch/{batch_id}").status_code == 204
    samples = scrape(client)
    assert value(samples, "jobservice_batches", type="set-job-retries", state="running") == 0
    assert value(samples, "jobservice_batch_remaining_elements", type="set-job-retries") == 0


def test_executions_by_outcome_and_handler_type_and_acquisition_rounds(client, make_jobs, app, app_context):
    before = scrape(client)
    failing = {"id": "bad", "handlerType": "demo.fail-until", "handlerConfiguration": {"failures": 5}}
    make_jobs({"id": "ok1"}, {"id": "ok2"}, failing)
    runtime = ExecutorRuntime(app, worker_id="w-metrics")
    runtime.run_rounds()
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    executions = "jobservice_job_execution_duration_seconds_count"
    assert delta(executions, handler_type="demo.noop", outcome="done") == 2
    assert delta(executions, handler_type="demo.fail-until", outcome="failed") == 3, "3 retries, 3 failures"
    assert delta(executions, handler_type="demo.fail-until", outcome="done") == 0
    assert delta("jobservice_job_execution_duration_seconds_sum", handler_type="demo.noop", outcome="done") > 0
    assert delta("jobservice_job_execution_duration_seconds_bucket", handler_type="demo.noop", outcome="done",
                 le="+Inf") == 2
    assert delta("jobservice_acquisition_rounds_total", result="jobs") >= 2
    assert delta("jobservice_acquisition_rounds_total", result="empty") == 1, "the round that found nothing"
    assert delta("jobservice_acquired_jobs_total") >= 3


def test_a_dead_worker_is_counted_once_per_noticing_process(client, app, app_context):
    before = value(scrape(client), "jobservice_dead_workers_noticed_total")
    workers.heartbeat("gone")
    db.session.execute(update(Worker).where(Worker.id == "gone").values(heartbeat_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    runtime = ExecutorRuntime(app, worker_id="w-notices")
    runtime.maintain()
    runtime.maintain()
    assert value(scrape(client), "jobservice_dead_workers_noticed_total") - before == 1


def test_jobs_taken_over_from_a_dead_worker_are_counted_by_the_round_that_takes_them(
        client, app, app_context, make_jobs):
    if not is_postgres(app):
        pytest.skip("takeovers are counted on PostgreSQL (the embedded SQLite mode is one process)")
    before = value(scrape(client), "jobservice_taken_over_jobs_total")
    make_jobs({"id": "held1"}, {"id": "held2"}, {"id": "free"})
    workers.heartbeat("crashed")
    far = utcnow() + timedelta(minutes=5)
    db.session.execute(update(Job).where(Job.id.in_(["held1", "held2"])).values(
        lock_owner="crashed", lock_expiration_time=far))
    db.session.execute(update(Worker).where(Worker.id == "crashed")
                       .values(heartbeat_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    ExecutorRuntime(app, worker_id="w-takeover").run_rounds()
    assert db.session.execute(select(func.count()).select_from(Job)).scalar_one() == 0, "all three ran"
    assert value(scrape(client), "jobservice_taken_over_jobs_total") - before == 2, "the free job is no takeover"


def test_http_requests_are_labelled_by_route_template_and_status(client):
    before = scrape(client)
    assert client.get("/engine-rest/job/no-such-job-4711").status_code == 404
    assert client.get("/engine-rest/job/count").status_code == 200
    assert client.get("/no/such/path-4711").status_code == 404
    response = client.get("/metrics")
    text = response.get_data(as_text=True)
    assert "no-such-job-4711" not in text and "path-4711" not in text, "raw paths are never labels"
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("jobservice_http_requests_total", method="GET", route="/engine-rest/job/<job_id>", status="404") == 1
    assert delta("jobservice_http_requests_total", method="GET", route="/engine-rest/job/count", status="200") == 1
    assert delta("jobservice_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert delta("jobservice_http_request_duration_seconds_count", method="GET",
                 route="/engine-rest/job/count") == 1
    assert delta("jobservice_http_request_duration_seconds_bucket", method="GET", route="/engine-rest/job/count",
                 le="+Inf") == 1


def test_the_database_state_is_cached_for_metrics_cache_seconds(app, make_jobs):
    cached = create_app("test", overrides={"METRICS_CACHE_SECONDS": 3600})
    cached_client = cached.test_client()
    make_jobs({"id": "c1"})
    assert value(scrape(cached_client), "jobservice_jobs", state="executable") == 1
    make_jobs({"id": "c2"})
    assert value(scrape(cached_client), "jobservice_jobs", state="executable") == 1, "served from the cache"
    cached.extensions["metrics_state_cache"].clear()
    assert value(scrape(cached_client), "jobservice_jobs", state="executable") == 2
