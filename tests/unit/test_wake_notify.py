"""The wake-up NOTIFY (spec A25): sent with the commit that makes work visible, never for a
rollback, and heard by the executor runtime's listener. PostgreSQL only."""

import select
import threading
import time

import psycopg2
import pytest
from sqlalchemy import text

from app.extensions import db
from app.services.dispatch import WAKE_CHANNEL, wake_executor_after_commit
from app.services.executor.runtime import ExecutorRuntime
from tests.conftest import is_postgres


@pytest.fixture(autouse=True)
def postgresql_only(app, monkeypatch):
    if not is_postgres(app):
        pytest.skip("LISTEN/NOTIFY exists on PostgreSQL only")
    # This test process is the web here, not a worker (a runtime left by another test would
    # turn the in-transaction NOTIFY off).
    monkeypatch.delitem(app.extensions, "executor_runtime", raising=False)


@pytest.fixture
def listener(app):
    """A connection LISTENing on the wake-up channel; ``listener()`` returns how many
    notifications arrived within a short wait."""
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg2.connect(url)
    connection.autocommit = True
    connection.cursor().execute(f"LISTEN {WAKE_CHANNEL}")

    def arrived(wait=0.3):
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            if select.select([connection], [], [], left)[0]:
                connection.poll()
        count, connection.notifies[:] = len(connection.notifies), []
        return count

    yield arrived
    connection.close()


def test_the_notify_arrives_with_the_commit_once_per_transaction(app_context, listener):
    wake_executor_after_commit(db.session)
    wake_executor_after_commit(db.session)  # a second request in the same transaction adds nothing
    assert listener(wait=0.2) == 0  # not before the commit
    db.session.commit()
    assert listener() == 1


def test_a_rolled_back_transaction_notifies_nobody(app_context, listener):
    wake_executor_after_commit(db.session)
    db.session.rollback()
    assert listener() == 0
    db.session.execute(text("SELECT 1"))
    db.session.commit()  # the flag went with the rollback: this commit sends nothing either
    assert listener() == 0


def test_no_notify_when_turned_off(app, app_context, listener, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_WAKE_NOTIFY", False)
    wake_executor_after_commit(db.session)
    db.session.commit()
    assert listener() == 0


def test_the_runtime_listener_wakes_the_executor_on_a_notify_and_stops(app):
    runtime = ExecutorRuntime(app, worker_id="w-listen")
    thread = threading.Thread(target=runtime._listen_loop, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not runtime._wake.is_set():  # it wakes once when it starts listening
            assert time.monotonic() < deadline, "the listener never connected"
            time.sleep(0.01)
        time.sleep(0.2)  # let it reach its wait after that first wake-up
        runtime._wake.clear()
        with app.app_context():
            wake_executor_after_commit(db.session)
            db.session.commit()
            db.session.remove()
        assert runtime._wake.wait(5), "the NOTIFY did not wake the executor"
    finally:
        runtime._stopping.set()
        thread.join(5)
    assert not thread.is_alive()


def test_with_notify_workers_wake_each_other_by_one_notify_per_round_never_through_the_broker(
        app, app_context, make_jobs, listener, dispatched, monkeypatch):
    from app.services.executor.runtime import LocalWakeDispatcher

    monkeypatch.setitem(app.config, "JOB_ACQUISITION_SIZE", 2)
    make_jobs(*[{"id": f"n{n}"} for n in range(3)])
    assert listener() == 1  # the ingestion's own commit
    runtime = ExecutorRuntime(app, worker_id="w-notify-fan")
    runtime.notifies = True
    runtime._job_seconds = 0.0001
    dispatched.clear()
    assert runtime.run_rounds() == 3  # a full round of 2, then a short one of 1
    runtime.close_connection()
    assert dispatched.sent == [], "no broker hint where wake-ups travel as NOTIFY"
    assert listener() == 1
    # A commit inside a worker sends no NOTIFY itself (notifying commits are serialised); it
    # wakes this runtime, whose next round sends one NOTIFY for all such commits.
    monkeypatch.setitem(app.extensions, "executor_runtime", runtime)
    monkeypatch.setitem(app.extensions, "dispatcher", LocalWakeDispatcher(runtime, dispatched))
    for _ in range(3):
        wake_executor_after_commit(db.session)
        db.session.commit()
    assert listener() == 0 and runtime._wake.is_set() and runtime._fan_out
    with db.engine.connect() as connection:
        runtime._send_fan_out_hint(connection.execution_options(isolation_level="AUTOCOMMIT"))
    assert listener() == 1 and dispatched.sent == []
