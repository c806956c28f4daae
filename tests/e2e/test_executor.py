"""The executor end to end: real Celery workers, a real broker, the test database."""

import signal
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select, update

from app.core.dates import format_date, utcnow
from app.models import Incident, Job, Worker
from tests.conftest import is_postgres
from tests.e2e.conftest import wait_for
from tests.e2e.handlers import read_records

pytestmark = pytest.mark.e2e

BASE = "/engine-rest"


def job_or_none(client, job_id):
    response = client.get(f"{BASE}/job/{job_id}")
    return response.get_json() if response.status_code == 200 else None


def test_a_new_job_runs_within_a_second_or_so(e2e_client, start_worker):
    start_worker()
    for _ in range(10):
        # The response lists the job even when a worker has already run and deleted it.
        created = e2e_client.post("/api/jobs", json=[{"handlerType": "demo.noop"}]).get_json()
        assert len(created) == 1
        wait_for(lambda: job_or_none(e2e_client, created[0]["id"]) is None, timeout=5, message="the job to run")


def test_failing_job_loses_retries_gets_an_incident_and_comes_back(e2e_client, start_worker, db_session):
    start_worker()
    fail_until = format_date(utcnow() + timedelta(hours=1))
    job = e2e_client.post("/api/jobs", json=[{
        "handlerType": "demo.fail-until", "activityId": "ServiceTask_Charge",
        "handlerConfiguration": {"message": "gateway down", "failUntil": fail_until},
    }]).get_json()[0]

    failed = wait_for(lambda: (j := job_or_none(e2e_client, job["id"])) and j["retries"] == 0 and j,
                      timeout=20, message="three failures")
    assert failed["exceptionMessage"] == "gateway down"
    assert failed["failedActivityId"] == "ServiceTask_Charge"
    trace = e2e_client.get(f"{BASE}/job/{job['id']}/stacktrace")
    assert trace.status_code == 200 and trace.mimetype == "text/plain"
    assert "RuntimeError: gateway down" in trace.get_data(as_text=True)
    incidents = db_session.execute(select(Incident).where(Incident.configuration == job["id"])).scalars().all()
    assert [i.incident_type for i in incidents] == ["failedJob"]
    assert incidents[0].incident_message == "gateway down"
    db_session.commit()

    # At 0 retries nothing runs it again, however long we look.
    assert job_or_none(e2e_client, job["id"])["retries"] == 0

    # The outage is over: failUntil lies in the past now.
    db_session.execute(update(Job).where(Job.id == job["id"]).values(
        handler_configuration={"message": "gateway down", "failUntil": format_date(utcnow())}))
    db_session.commit()
    response = e2e_client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 1})
    assert response.status_code == 204
    wait_for(lambda: job_or_none(e2e_client, job["id"]) is None, timeout=10, message="the retried job to succeed")
    db_session.rollback()
    assert db_session.execute(select(Incident).where(Incident.configuration == job["id"])).first() is None


def test_priorities_are_honoured(e2e_client, start_worker, tmp_path):
    log = str(tmp_path / "order.log")
    start_worker(concurrency=1, JOB_ACQUISITION_SIZE=1)
    priorities = [5, 100, 0, 50, 20, 75]
    jobs = e2e_client.post("/api/jobs", json=[
        {"handlerType": "test.record", "priority": p, "suspended": True, "processDefinitionKey": "prio",
         "handlerConfiguration": {"log": log, "name": str(p)}} for p in priorities
    ]).get_json()
    assert e2e_client.put(f"{BASE}/job/suspended",
                          json={"processDefinitionKey": "prio", "suspended": False}).status_code == 204
    wait_for(lambda: all(job_or_none(e2e_client, j["id"]) is None for j in jobs), timeout=20,
             message="all jobs to run")
    started = [int(r["name"]) for r in read_records(log) if r["event"] == "start"]
    assert started == sorted(priorities, reverse=True)


def test_two_workers_never_run_the_same_job(app, e2e_client, start_worker, tmp_path):
    if not is_postgres(app):
        pytest.skip("the embedded SQLite mode runs a single worker by design")
    log = str(tmp_path / "runs.log")
    start_worker(concurrency=2)
    start_worker(concurrency=2)
    jobs = e2e_client.post("/api/jobs", json=[
        {"handlerType": "test.record", "handlerConfiguration": {"log": log, "seconds": 0.01}} for _ in range(300)
    ]).get_json()
    ids = {j["id"] for j in jobs}
    wait_for(lambda: e2e_client.post(f"{BASE}/job/count", json={"jobIds": sorted(ids)}).get_json()["count"] == 0,
             timeout=90, message="300 jobs to run")
    records = read_records(log)
    starts = [r["job"] for r in records if r["event"] == "start"]
    assert sorted(starts) == sorted(ids), "every job ran exactly once"
    assert len({r["pid"] for r in records}) >= 2, "both workers took part"


# Short lease settings: a dead worker is noticed within seconds, its locks would last 5 minutes.
FAST_DEATH = {"JOB_LOCK_TIME_SECONDS": 300.0, "JOB_HEARTBEAT_INTERVAL_SECONDS": 0.5,
              "JOB_DEAD_WORKER_SECONDS": 2.0, "JOB_SWEEP_INTERVAL_SECONDS": 0.5}


def test_a_job_whose_worker_is_killed_runs_again_once_its_heartbeat_stops_long_before_its_lock_expires(
        e2e_client, start_worker, db_session, tmp_path):
    log = str(tmp_path / "kill.log")
    doomed = start_worker(concurrency=1, **FAST_DEATH)
    job = e2e_client.post("/api/jobs", json=[
        {"handlerType": "test.record", "handlerConfiguration": {"log": log, "seconds": 3}}]).get_json()[0]
    wait_for(lambda: [r for r in read_records(log) if r["event"] == "start"], timeout=10,
             message="the job to start")
    lock_expiry = db_session.execute(select(Job.lock_expiration_time).where(Job.id == job["id"])).scalar_one()
    db_session.commit()
    doomed.kill(signal.SIGKILL)
    doomed.process.wait(timeout=10)

    start_worker(concurrency=1, **FAST_DEATH)
    wait_for(lambda: job_or_none(e2e_client, job["id"]) is None, timeout=30,
             message="the abandoned job to run again")
    records = read_records(log)
    assert [r["event"] for r in records] == ["start", "start", "end"]
    expiry_epoch = lock_expiry.replace(tzinfo=timezone.utc).timestamp()
    assert records[1]["t"] < expiry_epoch - 250, "taken over through the heartbeat, not the lock expiry"


def test_a_worker_paused_past_the_dead_threshold_commits_nothing_when_it_resumes(
        e2e_client, start_worker, db_session, tmp_path):
    """The fencing: a frozen worker (SIGSTOP: a long GC pause, a stalled VM) loses its job to a
    live worker; when it thaws and finishes the handler, its database effects are discarded."""
    log = str(tmp_path / "pause.log")
    paused = start_worker(concurrency=1, **FAST_DEATH)
    marker = e2e_client.post("/api/jobs", json=[{"handlerType": "test.unserved"}]).get_json()[0]
    job = e2e_client.post("/api/jobs", json=[{"handlerType": "test.record-and-bump", "handlerConfiguration": {
        "log": log, "seconds": 2, "marker": marker["id"]}}]).get_json()[0]
    wait_for(lambda: read_records(log), timeout=10, message="the job to start")
    paused.kill(signal.SIGSTOP)
    try:
        start_worker(concurrency=1, **FAST_DEATH)
        wait_for(lambda: job_or_none(e2e_client, job["id"]) is None, timeout=30,
                 message="a live worker to take the job over and finish it")
        assert job_or_none(e2e_client, marker["id"])["priority"] == 1
    finally:
        paused.kill(signal.SIGCONT)
    wait_for(lambda: f"job {job['id']} changed or was taken over" in paused.log(), timeout=30,
             message="the thawed worker to finish its copy of the job")

    records = read_records(log)
    assert [r["event"] for r in records] == ["start", "start", "end", "end"]
    assert len({r["pid"] for r in records}) == 2
    assert job_or_none(e2e_client, marker["id"])["priority"] == 1, "the thawed worker committed nothing"


def test_an_idle_worker_logs_nothing_at_info(e2e_client, start_worker, db_session):
    """Issue 8 point 10: no line per sweep, per heartbeat or per hint while nothing happens."""
    worker = start_worker(concurrency=1, JOB_HEARTBEAT_INTERVAL_SECONDS=0.2, JOB_DEAD_WORKER_SECONDS=2.0)
    ready = worker.log()
    # Wake it for nothing a few times, as a web process does after a commit that made no work.
    for _ in range(3):
        e2e_client.application.extensions["dispatcher"].send("executor.acquire", expires=60)

    def heartbeats_advanced_by(seconds):
        first = {}

        def check():
            db_session.rollback()
            beats = dict(db_session.execute(select(Worker.id, Worker.heartbeat_at)).all())
            if not beats:
                return False
            first.update({k: v for k, v in beats.items() if k not in first})
            return all((beats[k] - first[k]).total_seconds() >= seconds for k in beats)

        return check

    # Many heartbeats and several sweeps (0.5 s) pass.
    wait_for(heartbeats_advanced_by(3.0), timeout=30, message="the idle worker to heartbeat for 3 s")
    idle_lines = worker.log()[len(ready):].strip()
    assert idle_lines == "", idle_lines


def test_sigterm_to_every_process_of_a_worker_lets_the_running_job_finish_and_retires_it(
        e2e_client, start_worker, db_session, tmp_path):
    """A deploy (Heroku signals every process of the dyno): the job in progress completes, and the
    row of the pool child that ran it is gone at once, so nothing waits for its heartbeat to go
    stale. (Billiard may start a replacement child while the main process shuts down; the main
    process's exit kills it with SIGKILL (Celery's pdeathsig), so its row, which holds no job,
    is left to go stale like any killed worker's: that row is not the one checked here.)"""
    log = str(tmp_path / "term.log")
    worker = start_worker(concurrency=1, **FAST_DEATH)
    job = e2e_client.post("/api/jobs", json=[
        {"handlerType": "test.record", "handlerConfiguration": {"log": log, "seconds": 1.5}}]).get_json()[0]
    wait_for(lambda: read_records(log), timeout=10, message="the job to start")
    db_session.rollback()
    running = {row.id for row in db_session.execute(select(Worker.id))}
    assert len(running) == 1, running  # concurrency 1: the child running the job
    db_session.rollback()

    worker.kill(signal.SIGTERM)
    worker.process.wait(timeout=30)

    assert [r["event"] for r in read_records(log)] == ["start", "end"]
    assert job_or_none(e2e_client, job["id"]) is None, "the running job finished and was deleted"
    db_session.rollback()
    left = {row.id for row in db_session.execute(select(Worker.id))}
    assert not running & left, "the child that ran the job retired its row"
    held = db_session.execute(select(Job.id).where(Job.lock_owner.in_(left))).all() if left else []
    assert held == [], "no job is held by a row left behind"


def test_a_commit_wakes_an_idle_worker_through_notify_without_any_broker_hint(
        app, e2e_app, e2e_client, start_worker, monkeypatch):
    """The broker hint is dropped and the sweep is a minute away: only the wake-up NOTIFY sent
    with the ingestion's commit can start the job within seconds (spec A25)."""
    if not is_postgres(app):
        pytest.skip("LISTEN/NOTIFY exists on PostgreSQL only")
    start_worker(JOB_SWEEP_INTERVAL_SECONDS=60.0)

    class DroppedHints:
        def send(self, name, args=(), countdown=None, expires=None):
            pass

    monkeypatch.setitem(e2e_app.extensions, "dispatcher", DroppedHints())
    for _ in range(3):
        created = e2e_client.post("/api/jobs", json=[{"handlerType": "demo.noop"}]).get_json()
        wait_for(lambda: job_or_none(e2e_client, created[0]["id"]) is None, timeout=5,
                 message="the job to run on the NOTIFY alone")
