"""Recovery end to end (issue 9, R1-R3): a batch runs on real workers and a fault hits it halfway.

R1 kills a whole worker (main process and pool children) with SIGKILL; R2 restarts a private
redis-server without persistence (every queued message is lost); R3 restarts a private
PostgreSQL cluster. In every case the batch must complete within 30 s of the kill or of the
server's return, every selected job must have the new retries (its revision bumped exactly
once: the slice was applied once), no other job may change, and no incident may be left for a
revived job.

The workers run with the product's lease defaults (heartbeat 2 s, dead after 10 s, sweep 5 s,
lock time 300 s), so a recovery within 30 s can only come from the heartbeats, never from a
lock expiring. The batch's execution handler is slowed down (``E2E_SLOW_HANDLERS``) so that the
fault lands mid-batch on a machine of any speed; the tests check that it did.

R2 and R3 restart Redis and PostgreSQL, the servers of the PostgreSQL + Redis run; on the SQLite
run (file broker, one worker by design) they are skipped. A missing redis-server, initdb or
pg_ctl fails them.
"""

import base64
import signal
import time
import uuid

import flask_migrate
import pytest
import redis
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Incident, Job, Worker
from tests.conftest import ensure_client_admin, is_postgres
from tests.e2e.conftest import wait_for
from tests.e2e.servers import PrivatePostgres, PrivateRedis

pytestmark = pytest.mark.e2e

BASE = "/engine-rest"
SELECTED, OTHER = "recovery-selected", "recovery-other"
SELECTED_JOBS, OTHER_JOBS = 1200, 100
NEW_RETRIES = 5
RECOVERY_LIMIT_SECONDS = 30.0
# Batch shape: 60 slices of 20 jobs, created 30 per seed run; each slice takes >= 0.15 s.
BATCH_SETTINGS = {"INVOCATIONS_PER_BATCH_JOB": 20, "BATCH_JOBS_PER_SEED": 30}
LEASE_DEFAULTS = {
    "JOB_LOCK_TIME_SECONDS": 300.0,
    "JOB_SWEEP_INTERVAL_SECONDS": 5.0,
    "JOB_HEARTBEAT_INTERVAL_SECONDS": 2.0,
    "JOB_DEAD_WORKER_SECONDS": 10.0,
    "E2E_SLOW_HANDLERS": {"set-job-retries": 0.15},
}


class BatchScenario:
    """Failed jobs, a set-retries batch over some of them, and the checks of its outcome.

    ``app`` has authentication on: an administrator is created in its database and the client
    sends its credentials (before any outage, so the credential cache holds them)."""

    def __init__(self, app):
        assert app.config["AUTH_ENABLED"]
        self.app = app
        self.client = app.test_client()
        token = base64.b64encode(":".join(ensure_client_admin(app)).encode()).decode()
        self.client.environ_base["HTTP_AUTHORIZATION"] = f"Basic {token}"
        self.before = {}
        self.batch = None

    def query(self, statement):
        with self.app.app_context():
            try:
                return db.session.execute(statement).all()
            finally:
                db.session.remove()

    def create_failed_jobs(self):
        for key, count in ((SELECTED, SELECTED_JOBS), (OTHER, OTHER_JOBS)):
            for start in range(0, count, 500):
                response = self.client.post("/api/jobs", json=[
                    {"handlerType": "test.unserved", "retries": 0, "processDefinitionKey": key,
                     "exceptionMessage": "gateway down"} for _ in range(min(500, count - start))])
                assert response.status_code == 201, response.get_json()
        self.before = {row.id: (row.process_definition_key, row.revision)
                       for row in self.query(select(Job.id, Job.process_definition_key, Job.revision))}
        assert len(self.before) == SELECTED_JOBS + OTHER_JOBS

    def start_batch(self):
        response = self.client.post(f"{BASE}/job/retries", json={
            "retries": NEW_RETRIES, "jobQuery": {"processDefinitionKey": SELECTED, "noRetriesLeft": True}})
        assert response.status_code == 200, response.get_json()
        self.batch = response.get_json()
        assert self.batch["totalJobs"] == SELECTED_JOBS // BATCH_SETTINGS["INVOCATIONS_PER_BATCH_JOB"]
        return self.batch

    def revived(self):
        [(count,)] = self.query(select(func.count()).select_from(Job).where(
            Job.process_definition_key == SELECTED, Job.retries == NEW_RETRIES))
        return count

    def wait_until_halfway_started(self, minimum=200):
        wait_for(lambda: self.revived() >= minimum, timeout=60, interval=0.05,
                 message=f"{minimum} jobs of the batch to be revived")

    def assert_still_running(self):
        revived = self.revived()
        assert revived < SELECTED_JOBS, "the batch finished before the fault: slow its slices down"
        assert self.client.get(f"{BASE}/batch/{self.batch['id']}").status_code == 200
        return revived

    def seconds_until_completed(self, since):
        """Poll the historic batch until it has an end time; seconds from ``since`` (monotonic)."""

        def ended():
            response = self.client.get(f"{BASE}/history/batch/{self.batch['id']}")
            return response.status_code == 200 and response.get_json()["endTime"] is not None

        wait_for(ended, timeout=RECOVERY_LIMIT_SECONDS + 30, interval=0.1, message="the batch to complete")
        seconds = time.monotonic() - since
        print(f"batch {self.batch['id']} completed {seconds:.1f} s after the fault (or the server's return)")
        return seconds

    def assert_outcome(self):
        rows = {row.id: row for row in self.query(select(Job.id, Job.retries, Job.revision))}
        incidents = {row.configuration for row in self.query(select(Incident.configuration))}
        for job_id, (key, revision) in self.before.items():
            row = rows[job_id]
            if key == SELECTED:
                # One revision more: the slice was applied once, whatever ran twice.
                assert (row.retries, row.revision) == (NEW_RETRIES, revision + 1), job_id
                assert job_id not in incidents, f"incident left for revived job {job_id}"
            else:
                assert (row.retries, row.revision) == (0, revision), f"unselected job {job_id} changed"
                assert job_id in incidents
        history = self.client.get(f"{BASE}/history/batch/{self.batch['id']}").get_json()
        assert history["skippedElements"] == 0 and history["elements"] == SELECTED_JOBS
        assert self.client.get(f"{BASE}/batch/{self.batch['id']}").status_code == 404

    def locks_held_by(self, pids):
        """Jobs locked by the registered workers among ``pids`` (a worker's processes)."""
        owners = select(Worker.id).where(Worker.pid.in_(pids))
        [(count,)] = self.query(select(func.count()).select_from(Job).where(Job.lock_owner.in_(owners)))
        return count


@pytest.fixture
def scenario(e2e_app, batch_settings):
    batch_settings(**BATCH_SETTINGS)
    return BatchScenario(e2e_app)


def kill_mid_batch(scenario, doomed):
    """SIGKILL the worker's whole process group once the batch is under way and the worker holds
    some of its jobs (those can only come back through its stale heartbeat); returns the kill time."""
    scenario.wait_until_halfway_started()
    pids = doomed.pids()
    wait_for(lambda: scenario.locks_held_by(pids) > 0, timeout=30, interval=0.01,
             message="the doomed worker to hold jobs of the batch")
    killed_at = time.monotonic()
    doomed.kill(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    assert scenario.locks_held_by(pids) > 0, "the killed worker's jobs stay locked until taken over"
    scenario.assert_still_running()
    return killed_at


def test_r1_a_killed_workers_batch_completes_soon_after_a_fresh_worker_starts(scenario, start_worker):
    scenario.create_failed_jobs()
    doomed = start_worker(**LEASE_DEFAULTS)
    scenario.start_batch()
    killed_at = kill_mid_batch(scenario, doomed)

    start_worker(**LEASE_DEFAULTS)
    seconds = scenario.seconds_until_completed(killed_at)

    assert seconds <= RECOVERY_LIMIT_SECONDS, f"batch completed {seconds:.1f} s after the kill"
    scenario.assert_outcome()


def test_r1_the_surviving_worker_finishes_the_batch_without_a_restart(app, scenario, start_worker):
    if not is_postgres(app):
        pytest.skip("two workers need PostgreSQL: the embedded SQLite mode runs a single worker by design")
    scenario.create_failed_jobs()
    start_worker(**LEASE_DEFAULTS)
    doomed = start_worker(**LEASE_DEFAULTS)
    scenario.start_batch()
    killed_at = kill_mid_batch(scenario, doomed)

    seconds = scenario.seconds_until_completed(killed_at)

    assert seconds <= RECOVERY_LIMIT_SECONDS, f"batch completed {seconds:.1f} s after the kill"
    scenario.assert_outcome()


@pytest.fixture
def private_redis(app):
    if not is_postgres(app):
        pytest.skip("R2 restarts Redis, the broker of the PostgreSQL + Redis run; this run uses the file broker")
    server = PrivateRedis().start()
    yield server
    server.stop()


def test_r2_a_redis_restart_that_loses_every_message_delays_the_batch_by_seconds(
        e2e_settings, private_redis, start_worker):
    broker = {"BROKER_URL": private_redis.url, "JOB_QUEUE": f"r2-{uuid.uuid4().hex[:8]}"}
    web = create_app("test", overrides={**e2e_settings, **broker, **BATCH_SETTINGS, "AUTH_ENABLED": True})
    scenario = BatchScenario(web)
    scenario.create_failed_jobs()
    worker = start_worker(**LEASE_DEFAULTS, **broker)
    scenario.start_batch()
    scenario.wait_until_halfway_started()

    private_redis.stop()
    scenario.assert_still_running()
    wait_for(lambda: "Cannot connect to redis" in worker.log() or "Connection to broker lost" in worker.log(),
             timeout=30, message="the worker to notice that Redis is gone")
    private_redis.start()
    back_at = time.monotonic()
    seconds = scenario.seconds_until_completed(back_at)

    assert seconds <= RECOVERY_LIMIT_SECONDS, f"batch completed {seconds:.1f} s after Redis was back"
    scenario.assert_outcome()
    # The worker reconnected by itself: hints sent now are consumed from the restarted server.
    for _ in range(3):
        web.extensions["dispatcher"].send("executor.acquire", expires=60)
    queue = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: queue.llen(broker["JOB_QUEUE"]) == 0, timeout=30,
             message="the worker to consume hints from the restarted Redis")


@pytest.fixture
def private_postgres(app):
    if not is_postgres(app):
        pytest.skip("R3 restarts PostgreSQL, the database of the PostgreSQL + Redis run; this run uses SQLite")
    server = PrivatePostgres().init().start()
    yield server
    server.destroy()


def test_r3_a_postgresql_restart_gives_503s_meanwhile_and_the_batch_completes_after_it(
        e2e_settings, private_postgres, start_worker):
    database = {"SQLALCHEMY_DATABASE_URI": private_postgres.create_database("jobservice_r3_test"),
                "JOB_QUEUE": f"r3-{uuid.uuid4().hex[:8]}"}
    web = create_app("test", overrides={**e2e_settings, **database, **BATCH_SETTINGS, "AUTH_ENABLED": True})
    with web.app_context():
        flask_migrate.upgrade()
    scenario = BatchScenario(web)
    scenario.create_failed_jobs()
    start_worker(**LEASE_DEFAULTS, **database)
    scenario.start_batch()
    scenario.wait_until_halfway_started()
    scenario.assert_still_running()

    private_postgres.stop()
    answers = []
    outage_started = time.monotonic()
    while len(answers) < 20 or time.monotonic() - outage_started < 2:
        response = scenario.client.get(f"{BASE}/job/count")
        answers.append((response.status_code, response.get_json()))
        time.sleep(0.05)  # pacing a poll of the outage, not waiting for anything
    private_postgres.start()
    back_at = time.monotonic()

    assert {status for status, _ in answers} == {503}, sorted({status for status, _ in answers})
    assert all(body["type"] == "ProcessEngineException" and "database" in body["message"] for _, body in answers)
    seconds = scenario.seconds_until_completed(back_at)
    assert seconds <= RECOVERY_LIMIT_SECONDS, f"batch completed {seconds:.1f} s after PostgreSQL was back"
    assert scenario.client.get(f"{BASE}/job/count").status_code == 200, "the web recovered without a restart"
    scenario.assert_outcome()
