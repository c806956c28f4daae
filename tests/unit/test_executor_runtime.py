"""The executor runtime and worker leases, driven step by step in the test process.

Rounds, takeover of a dead worker's jobs, heartbeats, lease extension and the fencing of a
worker that lost its lease are called synchronously (``run_rounds``, ``beat``, ...); one test
runs the real threads. Two "workers" here are two runtimes with their own worker ids.
"""

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from app.core.dates import utcnow
from app.core.names import TASK_ACQUIRE
from app.extensions import db
from app.models import Job, JobStacktrace, Worker
from app.models.tables import job_table
from app.services.executor import workers
from app.services.executor.acquire import acquire_round
from app.services.executor.execute import DONE, SKIPPED, run_job
from app.services.executor.runtime import ExecutorRuntime, LocalWakeDispatcher

BUMP = "test.unit.bump-marker"
FLAKY = "test.unit.flaky"


def bump_marker(context):
    """Database work through the job's transaction: the marker job's priority goes up by one."""
    context.session.execute(update(job_table).where(job_table.c.id == context.configuration["marker"])
                            .values(priority=job_table.c.priority + 1))


class Flaky:
    """Fails like a database outage the first ``outages`` times, then succeeds."""

    def __init__(self, outages):
        self.outages = outages
        self.calls = 0

    def __call__(self, context):
        self.calls += 1
        if self.calls <= self.outages:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


@pytest.fixture
def handlers(app, monkeypatch):
    """Register test handlers on the session app for one test."""

    def register(**by_type):
        for handler_type, function in by_type.items():
            monkeypatch.setitem(app.extensions["job_handlers"], handler_type, function)

    return register


@pytest.fixture
def config(app, monkeypatch):
    def apply(**settings):
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)

    return apply


def row(job_id):
    db.session.rollback()
    return db.session.execute(select(Job).where(Job.id == job_id)).scalar_one_or_none()


def worker_row(worker_id):
    db.session.rollback()
    return db.session.execute(select(Worker).where(Worker.id == worker_id)).scalar_one_or_none()


def make_stale(worker_id, seconds):
    db.session.execute(update(Worker).where(Worker.id == worker_id)
                       .values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


def test_a_round_runs_every_job_in_its_own_transaction_and_registers_the_worker(app, make_jobs, app_context):
    make_jobs({"id": "r1"}, {"id": "r2"}, {"id": "r3"})
    runtime = ExecutorRuntime(app, worker_id="w-rounds")
    assert runtime.run_rounds() == 3
    assert [row(job_id) for job_id in ("r1", "r2", "r3")] == [None, None, None]
    registered = worker_row("w-rounds")
    assert registered is not None and registered.heartbeat_at > utcnow() - timedelta(seconds=5)
    assert runtime.run_rounds() == 0, "nothing left: an empty round ends the loop"


def test_rounds_are_sized_by_the_measured_job_duration(app, config):
    config(JOB_ACQUISITION_SIZE=100, JOB_ROUND_SECONDS=0.25)
    runtime = ExecutorRuntime(app)
    assert runtime.round_size() == 1, "nothing measured yet: one job"
    runtime._job_seconds = 0.001
    assert runtime.round_size() == 100, "fast jobs: bounded by JOB_ACQUISITION_SIZE"
    runtime._job_seconds = 0.05
    assert runtime.round_size() == 5
    runtime._job_seconds = 30.0
    assert runtime.round_size() == 1


def test_a_round_locks_only_its_size_and_leaves_the_rest_to_other_workers(app, make_jobs, app_context, config):
    config(JOB_ACQUISITION_SIZE=100, JOB_ROUND_SECONDS=0.25)
    make_jobs(*[{"id": f"s{n}", "priority": n} for n in range(6)])
    runtime = ExecutorRuntime(app, worker_id="w-size")
    runtime._job_seconds = 0.1  # a slow kind of job: rounds of 2
    runtime.beat()
    jobs = acquire_round(runtime.worker_id, runtime.round_size())
    assert [job.id for job in jobs] == ["s5", "s4"]
    assert [j.id for j in acquire_round("w-other", 10)] == ["s3", "s2", "s1", "s0"]


def test_a_full_round_asks_the_other_workers_in_with_one_hint(app, make_jobs, app_context, config, dispatched):
    config(JOB_ACQUISITION_SIZE=2)
    make_jobs(*[{"id": f"f{n}"} for n in range(3)])
    runtime = ExecutorRuntime(app, worker_id="w-fan")
    runtime._job_seconds = 0.0001
    dispatched.clear()
    assert runtime.run_rounds() == 3  # a full round of 2, then a short one of 1
    assert dispatched.names() == [TASK_ACQUIRE]


def test_commits_inside_a_worker_wake_it_and_are_passed_on_as_one_hint_per_round(app, dispatched):
    runtime = ExecutorRuntime(app, worker_id="w-local")
    local = LocalWakeDispatcher(runtime, dispatched)
    dispatched.clear()
    for _ in range(5):
        local.send(TASK_ACQUIRE, expires=60)
    assert dispatched.sent == [], "no broker message per commit"
    assert runtime._wake.is_set()
    runtime._send_fan_out_hint()
    runtime._send_fan_out_hint()
    assert dispatched.names() == [TASK_ACQUIRE]
    local.send("some.other-task", args=("x",))
    assert dispatched.sent[-1] == ("some.other-task", ("x",))


def test_a_dead_workers_jobs_are_taken_over_at_once_long_before_their_lock_expires(app, make_jobs, app_context):
    make_jobs({"id": "t1"}, {"id": "t2"}, {"id": "t3"})
    dead, alive = ExecutorRuntime(app, worker_id="w-dead"), ExecutorRuntime(app, worker_id="w-alive")
    dead.beat()
    alive.beat()
    held = acquire_round(dead.worker_id, 2)
    assert row(held[0].id).lock_expiration_time > utcnow() + timedelta(seconds=250)
    assert [job.id for job in acquire_round(alive.worker_id, 10)] == ["t3"], "a live worker's locks hold"

    make_stale(dead.worker_id, app.config["JOB_DEAD_WORKER_SECONDS"] + 1)
    taken = acquire_round(alive.worker_id, 10)
    assert sorted(job.id for job in taken) == sorted(job.id for job in held)
    for before, after in zip(sorted(held, key=lambda j: j.id), sorted(taken, key=lambda j: j.id)):
        assert after.revision == before.revision + 1 and after.lock_owner == "w-alive"
        assert row(after.id).lock_owner == "w-alive"


def test_a_lock_whose_owner_is_no_registered_worker_waits_for_its_expiry(app, make_jobs, app_context):
    make_jobs({"id": "u1"})
    [job] = acquire_round("a-request-not-a-worker", 1)
    assert acquire_round("w-any", 1) == []
    db.session.execute(update(Job).where(Job.id == job.id)
                       .values(lock_expiration_time=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert [j.id for j in acquire_round("w-any", 1)] == ["u1"]


def test_a_worker_that_lost_its_lease_while_paused_commits_nothing(app, make_jobs, app_context, handlers):
    handlers(**{BUMP: bump_marker})
    make_jobs({"id": "marker", "handlerType": "nobody.serves.this", "priority": 0})
    make_jobs({"id": "work", "handlerType": BUMP, "handlerConfiguration": {"marker": "marker"}})
    paused, rescuer = ExecutorRuntime(app, worker_id="w-paused"), ExecutorRuntime(app, worker_id="w-rescuer")
    paused.beat()
    [held] = acquire_round(paused.worker_id, 1)
    # The paused worker stops heartbeating; the rescuer's next round takes the job over.
    make_stale(paused.worker_id, app.config["JOB_DEAD_WORKER_SECONDS"] + 1)
    assert rescuer.run_rounds() == 1
    assert row("work") is None and row("marker").priority == 1

    # The paused worker wakes up and runs the job it still has in its round: the handler runs,
    # but its effects are rolled back with the fenced delete, and nothing else is touched.
    assert run_job(held) == SKIPPED
    assert row("marker").priority == 1, "the handler's effects applied once"


def test_a_paused_worker_that_resumes_before_the_rescuer_finishes_is_fenced_too(
        app, make_jobs, app_context, handlers):
    handlers(**{BUMP: bump_marker})
    make_jobs({"id": "marker2", "handlerType": "nobody.serves.this"})
    make_jobs({"id": "work2", "handlerType": BUMP, "handlerConfiguration": {"marker": "marker2"}})
    paused = ExecutorRuntime(app, worker_id="w-paused2")
    paused.beat()
    [held] = acquire_round(paused.worker_id, 1)
    make_stale(paused.worker_id, app.config["JOB_DEAD_WORKER_SECONDS"] + 1)
    [taken] = acquire_round("w-rescuer2", 1)

    assert run_job(held) == SKIPPED
    assert row("work2").lock_owner == "w-rescuer2", "the rescuer's lock is left alone"
    assert run_job(taken) == DONE
    assert row("marker2").priority == 1 and row("work2") is None


def test_heartbeat_registers_refreshes_and_registers_again_after_a_purge(app, app_context):
    runtime = ExecutorRuntime(app, worker_id="w-beat")
    runtime.beat()
    first = worker_row("w-beat").heartbeat_at
    make_stale("w-beat", 3)
    runtime.beat()
    assert worker_row("w-beat").heartbeat_at > first - timedelta(seconds=1)
    db.session.execute(Worker.__table__.delete())
    db.session.commit()
    runtime.beat()
    assert worker_row("w-beat") is not None


def test_a_long_running_round_keeps_its_locks(app, make_jobs, app_context, config):
    config(JOB_LOCK_TIME_SECONDS=300.0, JOB_HEARTBEAT_INTERVAL_SECONDS=2.0)
    make_jobs({"id": "long"})
    runtime = ExecutorRuntime(app, worker_id="w-long")
    runtime.beat()
    runtime._round.extend(acquire_round(runtime.worker_id, 1))
    runtime._leased_at = time.monotonic()
    before = row("long")
    assert runtime.extend_leases_if_due() == 0, "fresh locks are left alone"

    db.session.execute(update(Job).where(Job.id == "long")
                       .values(lock_expiration_time=utcnow() + timedelta(seconds=100)))
    db.session.commit()
    runtime._leased_at = time.monotonic() - 200  # two thirds of the lock time have passed
    assert runtime.extend_leases_if_due() == 1
    after = row("long")
    assert after.lock_expiration_time > utcnow() + timedelta(seconds=290)
    assert after.revision == before.revision and after.lock_owner == "w-long", "the holder keeps its fence"


def test_a_database_error_mid_round_keeps_the_job_and_runs_it_again(app, make_jobs, app_context, handlers):
    flaky = Flaky(outages=1)
    handlers(**{FLAKY: flaky})
    make_jobs({"id": "flaky", "handlerType": FLAKY})
    runtime = ExecutorRuntime(app, worker_id="w-flaky")
    with pytest.raises(OperationalError):
        runtime.run_rounds()
    kept = row("flaky")
    assert kept.lock_owner == "w-flaky" and kept.retries == 3, "not counted as the job's failure"
    assert [job.id for job in runtime._round] == ["flaky"]
    assert runtime.run_rounds() == 1
    assert row("flaky") is None and flaky.calls == 2


def test_stopping_gives_the_rest_of_the_round_back_and_retires_the_worker(app, make_jobs, app_context):
    make_jobs({"id": "g1"}, {"id": "g2"})
    runtime = ExecutorRuntime(app, worker_id="w-stop")
    runtime.beat()
    runtime._round.extend(acquire_round(runtime.worker_id, 2))
    runtime.stop()
    assert worker_row("w-stop") is None
    assert [row("g1").lock_owner, row("g2").lock_owner] == [None, None]
    assert sorted(j.id for j in acquire_round("w-next", 5)) == ["g1", "g2"]


def test_a_worker_that_must_leave_a_job_behind_is_marked_dead_at_once(app, make_jobs, app_context):
    make_jobs({"id": "left"})
    workers.heartbeat("w-leaving")
    acquire_round("w-leaving", 1)
    workers.retire_worker("w-leaving", still_holding=True)
    assert worker_row("w-leaving") is not None, "kept until its locks expire"
    assert [j.id for j in acquire_round("w-taker", 1)] == ["left"]


def test_maintenance_reports_a_dead_worker_once_and_purges_the_long_dead(app, app_context, caplog):
    runtime = ExecutorRuntime(app, worker_id="w-maint")
    runtime.beat()
    workers.heartbeat("w-recently-dead")
    workers.heartbeat("w-long-dead")
    config = app.config
    make_stale("w-recently-dead", config["JOB_DEAD_WORKER_SECONDS"] + 1)
    make_stale("w-long-dead", config["JOB_DEAD_WORKER_SECONDS"] + config["JOB_LOCK_TIME_SECONDS"] + 1)
    with caplog.at_level(logging.WARNING, logger="app.services.executor.runtime"):
        runtime.maintain()
        runtime.maintain()
    reported = [r.getMessage() for r in caplog.records if "is dead" in r.getMessage()]
    assert len([m for m in reported if "w-recently-dead" in m]) == 1
    assert worker_row("w-long-dead") is None
    assert worker_row("w-recently-dead") is not None and worker_row("w-maint") is not None


def test_the_threads_run_woken_work_and_retire_on_stop(app, make_jobs, dispatched):
    runtime = ExecutorRuntime(app, worker_id="w-threads").start()
    try:
        assert isinstance(app.extensions["dispatcher"], LocalWakeDispatcher)
        make_jobs({"id": "th1"}, {"id": "th2"})  # the ingestion's hint wakes the runtime

        def gone():
            with app.app_context():
                return row("th1") is None and row("th2") is None

        deadline = time.monotonic() + 10
        while not gone():
            assert time.monotonic() < deadline, "the runtime did not run the woken jobs"
            time.sleep(0.02)
        assert runtime.wait_until_idle(10), "out of work, the executor thread waits (a held hint returns)"
        runtime.wake()
        assert not runtime._idle.is_set(), "a wake-up makes it busy at once, before its thread runs"
    finally:
        runtime.stop()
    assert app.extensions["dispatcher"] is dispatched
    with app.app_context():
        assert worker_row("w-threads") is None


class Stubborn:
    """A handler that keeps running: it polls a flag, and swallows interruptions if asked to."""

    def __init__(self, swallow):
        self.swallow = swallow
        self.release = False
        self.started = False

    def __call__(self, context):
        self.started = True
        while not self.release:
            try:
                time.sleep(0.01)
            except Exception:
                if not self.swallow:
                    raise


def wait_until(predicate, message, timeout=15):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


def test_a_handler_past_its_soft_time_limit_is_interrupted_and_the_job_fails(
        app, make_jobs, handlers, config, dispatched):
    stubborn = Stubborn(swallow=False)
    handlers(**{"test.unit.slow": stubborn})
    config(TASK_SOFT_TIME_LIMIT=0.3, TASK_TIME_LIMIT=30, JOB_HEARTBEAT_INTERVAL_SECONDS=0.05)
    make_jobs({"id": "slow", "handlerType": "test.unit.slow"})
    runtime = ExecutorRuntime(app, worker_id="w-soft")
    runtime._exit = lambda code: pytest.fail(f"the process would have exited ({code})")
    runtime.start()
    try:
        traces = []

        def failed_once():
            with app.app_context():
                job = row("slow")
                if job is None or job.retries != 2:
                    return False
                traces.extend(db.session.execute(
                    select(JobStacktrace.stacktrace).where(JobStacktrace.job_id == "slow")).scalars())
                return True

        wait_until(failed_once, "the job to fail on its soft time limit")
        assert "JobTimeLimitExceeded" in traces[0]
    finally:
        stubborn.release = True
        runtime.stop()


def test_a_handler_that_ignores_its_soft_limit_is_failed_at_the_hard_limit_and_the_process_replaced(
        app, make_jobs, handlers, config, dispatched):
    stubborn = Stubborn(swallow=True)
    handlers(**{"test.unit.stuck": stubborn})
    config(TASK_SOFT_TIME_LIMIT=0.2, TASK_TIME_LIMIT=0.6, JOB_HEARTBEAT_INTERVAL_SECONDS=0.05)
    make_jobs({"id": "stuck", "handlerType": "test.unit.stuck"})
    exits = []
    runtime = ExecutorRuntime(app, worker_id="w-hard")
    runtime._exit = exits.append
    runtime.start()
    try:
        wait_until(lambda: exits, "the runtime to give the stuck handler up")
        assert exits == [70]
        with app.app_context():
            job = row("stuck")
            assert job.retries == 2 and job.lock_owner is None
            assert job.exception_message == "Job stuck ran longer than its time limit of 0.6 s"
            assert worker_row("w-hard") is None
    finally:
        stubborn.release = True
        runtime.stop()
