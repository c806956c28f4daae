"""The set-job-retries batch engine driven without a worker (spec B.5, A8-A11).

The batch's seed, execution and monitor jobs are run synchronously through the executor
service (``acquire_jobs`` + ``execute_job``) inside an app context. Target jobs use a handler
type no worker serves, so only the batch's own jobs are ever acquired.
"""

import json
import math

import pytest
from sqlalchemy import func, select, text

from app.core.names import BATCH_TYPE_SET_JOB_RETRIES, HANDLER_BATCH_MONITOR, HANDLER_BATCH_SEED
from app.extensions import db
from app.models import Batch, BatchSlice, Incident, Job, JobDefinition
from app.services.batches import engine
from app.services.batches import set_job_retries as set_job_retries_type
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job
from app.services.jobs import retries as retries_service
from tests.support import drain_jobs, run_one


def per_id_slices(monkeypatch):
    """Slices through apply_slice (ids in Python) even on PostgreSQL, where a plain set-retries
    slice runs on its stored ids: for the tests that make set_job_retries fail per id."""
    import dataclasses

    from app.services.batches import types

    plain = types.get_batch_type(BATCH_TYPE_SET_JOB_RETRIES)
    monkeypatch.setitem(types._TYPES, BATCH_TYPE_SET_JOB_RETRIES, dataclasses.replace(plain, apply_stored_slice=None))

# --- helpers --------------------------------------------------------------------------------


def run_seed_directly(batch):
    """What the seed handler does, without the executor: run the seed, delete the seed job that ran."""
    c = Job.__table__.c
    ran = db.session.execute(select(c.id).where(c.job_definition_id == batch["seedJobDefinitionId"])).scalars().all()
    engine.run_seed(batch["id"])
    db.session.execute(Job.__table__.delete().where(c.id.in_(ran)))
    db.session.commit()


def count_jobs(definition_id, **conditions):
    c = Job.__table__.c
    statement = select(func.count()).select_from(Job.__table__).where(c.job_definition_id == definition_id)
    for name, value in conditions.items():
        statement = statement.where(c[name] == value)
    result = db.session.execute(statement).scalar_one()
    db.session.commit()
    return result


def job_rows(definition_id):
    c = Job.__table__.c
    rows = db.session.execute(select(Job.__table__).where(c.job_definition_id == definition_id)
                              .order_by(c.id)).mappings().all()
    db.session.commit()
    return rows


def target_job(job_id):
    row = db.session.execute(select(Job.__table__).where(Job.__table__.c.id == job_id)).mappings().first()
    db.session.commit()
    return row


def incidents_of(job_id):
    rows = db.session.execute(select(Incident.__table__).where(Incident.__table__.c.configuration == job_id)).all()
    db.session.commit()
    return rows


def statistics(client, batch_id):
    rows = client.get(f"/engine-rest/batch/statistics?batchId={batch_id}").get_json()
    return rows[0] if rows else None


def progress(client, batch_id):
    s = statistics(client, batch_id)
    return s["jobsCreated"], s["remainingJobs"], s["completedJobs"], s["failedJobs"]


def create_batch(client, expect=200, **body):
    response = client.post("/engine-rest/job/retries", json=body)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


# --- seeding, execution, completion ------------------------------------------------------

def test_multi_seed_batch_runs_to_completion_step_by_step(client, app_context, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=2, BATCH_JOBS_PER_SEED=2)
    ids = targets(9, retries=1)
    batch = create_batch(client, retries=7, jobIds=ids)
    batch_id, definition = batch["id"], batch["batchJobDefinitionId"]
    assert batch["totalJobs"] == 5 and batch["jobsCreated"] == 0
    assert batch["invocationsPerBatchJob"] == 2 and batch["batchJobsPerSeed"] == 2
    assert progress(client, batch_id) == (0, 5, 0, 0)
    assert count_jobs(batch["seedJobDefinitionId"]) == 1

    # Each seed run creates at most batchJobsPerSeed execution jobs, then the next seed.
    for expected_created in (2, 4, 5):
        assert run_one(HANDLER_BATCH_SEED) == "done"
        assert count_jobs(definition) == expected_created
        assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["jobsCreated"] == expected_created
        assert progress(client, batch_id) == (expected_created, 5, 0, 0)
    # The last seed run left no seed job but a monitor job.
    assert count_jobs(batch["seedJobDefinitionId"]) == 0
    assert count_jobs(batch["monitorJobDefinitionId"]) == 1

    # Execution jobs carry the batch id and the batch's job definition, visible in GET /job.
    listed = client.get(f"/engine-rest/job?jobDefinitionId={definition}").get_json()
    assert len(listed) == 5
    assert all(job["batchId"] == batch_id and job["jobDefinitionId"] == definition for job in listed)
    assert client.get(f"/engine-rest/job/count?jobDefinitionId={definition}").get_json() == {"count": 5}
    assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["executionStartTime"] is None
    assert client.get(f"/engine-rest/history/batch/{batch_id}").get_json()["executionStartTime"] is None

    # Execution jobs one at a time: completed advances; executionStartTime set on the first.
    for completed in range(1, 6):
        assert run_one(BATCH_TYPE_SET_JOB_RETRIES) == "done"
        if completed < 5:
            assert progress(client, batch_id) == (5, 5 - completed, completed, 0)
            started = client.get(f"/engine-rest/batch/{batch_id}").get_json()["executionStartTime"]
            assert started is not None
            history = client.get(f"/engine-rest/history/batch/{batch_id}").get_json()
            assert history["executionStartTime"] == started and history["endTime"] is None
    # The last execution job completed the batch at once (A9), without waiting for the monitor.
    assert client.get(f"/engine-rest/batch/{batch_id}").status_code == 404
    assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["message"] == \
        f"Batch with id '{batch_id}' does not exist"
    history = client.get(f"/engine-rest/history/batch/{batch_id}").get_json()
    assert history["endTime"] is not None and history["executionStartTime"] is not None
    assert history["skippedElements"] == 0 and history["elements"] == 9
    assert all(target_job(job_id)["retries"] == 7 for job_id in ids)
    # Nothing of the batch is left: jobs, definitions, elements.
    for definition_id in (batch["seedJobDefinitionId"], batch["monitorJobDefinitionId"], definition):
        assert count_jobs(definition_id) == 0
        assert db.session.get(JobDefinition, definition_id) is None
    assert db.session.execute(select(func.count()).select_from(BatchSlice.__table__)).scalar_one() == 0
    assert drain_jobs() == []


@pytest.mark.parametrize("count, invocations", [(4, 5), (7, 3), (3, 2), (1000, 1000), (1001, 1000)])
def test_slices_cover_every_element(client, app_context, batch_config, targets, count, invocations):
    """Elements are numbered into whole slices 0..totalJobs-1 on both databases."""
    batch_config(INVOCATIONS_PER_BATCH_JOB=invocations)
    ids = targets(count)
    batch = create_batch(client, retries=9, jobIds=ids)
    assert batch["totalJobs"] == math.ceil(count / invocations)
    slices = db.session.execute(
        select(BatchSlice.slice, BatchSlice.size, BatchSlice.job_ids).order_by(BatchSlice.slice)).all()
    db.session.commit()
    assert [row.slice for row in slices] == list(range(batch["totalJobs"]))
    assert all(row.size == invocations for row in slices[:-1])
    assert all(row.size == len(row.job_ids) for row in slices)
    assert sorted(job_id for row in slices for job_id in row.job_ids) == sorted(ids)
    drain_jobs()
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert client.get("/engine-rest/job/count?withRetriesLeft=true").get_json() == {"count": count}
    c = Job.__table__.c
    assert db.session.execute(select(func.count()).where(c.retries == 9)).scalar_one() == count


def test_the_slices_are_grouped_in_memory_for_the_creating_transaction_only(client, app_context, targets, app):
    """PostgreSQL: the INSERT of the slices runs with SLICE_GROUPING_WORK_MEM (its hash table of
    every selected id spilled to disk at the default), set in the creation's transaction only."""
    from sqlalchemy import event, text

    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("a PostgreSQL memory setting")
    seen = []

    def statement(conn, cursor, sql, *args):
        seen.append(sql.split("\n")[0][:40])

    def commit(conn):
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        create_batch(client, retries=2, jobIds=targets(3))
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    setting = seen.index(f"SET LOCAL work_mem = '{engine.SLICE_GROUPING_WORK_MEM}'")
    insert = next(n for n, sql in enumerate(seen) if sql.startswith("INSERT INTO batch_slice"))
    assert setting < insert < seen.index("COMMIT", setting)
    assert db.session.execute(text("SHOW work_mem")).scalar() != engine.SLICE_GROUPING_WORK_MEM
    db.session.rollback()


def test_job_query_selection_and_dedup(client, app_context, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    tenant_a = targets(3, tenantId="a", retries=0)
    others = targets(2, tenantId="b")
    batch = create_batch(client, retries=4, jobIds=[tenant_a[0], others[0], others[0]],
                         jobQuery={"tenantIdIn": ["a"]})
    assert batch["totalJobs"] == 4  # a0 a1 a2 (query) + b0 (explicit), duplicates counted once
    drain_jobs()
    assert [target_job(job_id)["retries"] for job_id in tenant_a + others] == [4, 4, 4, 4, 3]


def test_only_a_slice_that_may_be_the_last_takes_the_completion_path(
        client, app_context, monkeypatch, batch_config, targets):
    """After its commit a slice checks cheaply (seed done, no execution job left) before it
    locks the batch row to complete it."""
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, BATCH_JOBS_PER_SEED=1)
    batch = create_batch(client, retries=2, jobIds=targets(3))
    completions = []
    original = engine.complete_if_done

    def recording(batch_id, running_job_id=None):
        completions.append(batch_id)
        return original(batch_id, running_job_id)

    monkeypatch.setattr(engine, "complete_if_done", recording)
    run_one(HANDLER_BATCH_SEED)
    assert run_one(BATCH_TYPE_SET_JOB_RETRIES) == "done"
    assert completions == []  # no execution job left, but the seed has more to create
    run_one(HANDLER_BATCH_SEED)
    run_one(HANDLER_BATCH_SEED)
    assert run_one(BATCH_TYPE_SET_JOB_RETRIES) == "done"
    assert completions == []  # the seed is done, but another slice is left
    assert run_one(BATCH_TYPE_SET_JOB_RETRIES) == "done"
    assert completions == [batch["id"]]
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404


def test_the_runtime_checks_completion_on_its_autocommit_connection(
        client, app_context, batch_config, targets):
    """Run as the runtime runs them (acquired, with its autocommit connection), each slice checks
    completion on that connection, one statement, and the last one completes the batch."""
    from sqlalchemy import event

    from app.services.executor.acquire import acquire_round
    from app.services.executor.execute import run_job

    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(2)
    batch = create_batch(client, retries=2, jobIds=ids)
    run_one(HANDLER_BATCH_SEED)
    checks = []
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        def record(conn, cursor, sql, *args):
            if "batch.jobs_created = batch.total_jobs" in sql:  # the check, not the completion's lock
                checks.append(conn is autocommit)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            for _ in ids:
                [job] = acquire_round("worker-under-test", 1, [BATCH_TYPE_SET_JOB_RETRIES], connection=autocommit)
                assert run_job(job, autocommit=autocommit) == "done"
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert checks == [True, True]
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()["endTime"] is not None
    assert [target_job(job_id)["retries"] for job_id in ids] == [2, 2]


def test_a_failed_completion_after_a_slice_leaves_the_batch_to_the_monitor(
        client, app_context, monkeypatch, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(1)
    batch = create_batch(client, retries=2, jobIds=ids)
    run_one(HANDLER_BATCH_SEED)

    def unreachable(batch_id, connection=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(engine, "may_be_complete", unreachable)
    assert run_one(BATCH_TYPE_SET_JOB_RETRIES) == "done"
    assert target_job(ids[0])["retries"] == 2
    assert statistics(client, batch["id"])["remainingJobs"] == 0
    assert run_one(HANDLER_BATCH_MONITOR) == "done"
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404


# --- what an execution job applies -------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ({}, "2030-01-01T00:00:00.000+0000"),
    ({"dueDate": "2031-05-06T07:08:09.123+0200"}, "2031-05-06T05:08:09.123+0000"),
    ({"dueDate": None}, None),
])
def test_due_date_absent_value_null(client, app_context, targets, body, expected):
    ids = targets(2, dueDate="2030-01-01T00:00:00.000+0000", retries=0)
    batch = create_batch(client, retries=2, jobIds=ids, **body)
    drain_jobs()
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    for job_id in ids:
        job = client.get(f"/engine-rest/job/{job_id}").get_json()
        assert job["retries"] == 2 and job["dueDate"] == expected


def test_incidents_resolved_from_zero_and_created_to_zero(client, app_context, targets):
    failed = targets(2, retries=0, exceptionMessage="boom")
    healthy = targets(1, retries=3)
    assert all(len(incidents_of(job_id)) == 1 for job_id in failed)
    create_batch(client, retries=3, jobIds=failed)
    drain_jobs()
    assert all(incidents_of(job_id) == [] for job_id in failed)
    # The exception message is kept (B.5.12).
    assert all(target_job(job_id)["exception_message"] == "boom" for job_id in failed)
    create_batch(client, retries=0, jobIds=healthy)
    drain_jobs()
    assert target_job(healthy[0])["retries"] == 0
    assert len(incidents_of(healthy[0])) == 1


def test_missing_jobs_are_skipped_and_counted(client, app_context, batch_config, targets):
    """A10: ids that do not exist (never, or deleted before their slice ran) are skipped."""
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(2)
    batch = create_batch(client, retries=6, jobIds=[ids[0], "no-such-job", ids[1]])
    assert batch["totalJobs"] == 3
    run_one(HANDLER_BATCH_SEED)
    # Delete a target job after the selection was taken.
    db.session.execute(Job.__table__.delete().where(Job.__table__.c.id == ids[1]))
    db.session.commit()
    for _ in range(3):
        run_one(BATCH_TYPE_SET_JOB_RETRIES)
        if statistics(client, batch["id"]) is None:
            break
        assert statistics(client, batch["id"])["failedJobs"] == 0
    assert statistics(client, batch["id"]) is None
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["skippedElements"] == 2 and history["elements"] == 3 and history["endTime"] is not None
    assert target_job(ids[0])["retries"] == 6


def test_skipped_elements_visible_in_statistics_while_running(client, app_context, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(1, id="zzzz-real-target")
    # Explicit ids are sliced in id order: the missing id's slice is the first execution job.
    batch = create_batch(client, retries=6, jobIds=[ids[0], "0000-missing"])
    run_one(HANDLER_BATCH_SEED)
    run_one(BATCH_TYPE_SET_JOB_RETRIES)
    stats = statistics(client, batch["id"])
    assert stats["skippedElements"] == 1
    assert (stats["remainingJobs"], stats["completedJobs"], stats["failedJobs"]) == (1, 1, 0)
    drain_jobs()
    assert client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()["skippedElements"] == 1


# --- failures -----------------------------------------------------------------------------

def test_failed_execution_job_keeps_the_batch_until_retried(
        client, app_context, monkeypatch, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, DEFAULT_JOB_RETRIES=3, JOB_RETRY_DELAY_SECONDS=0.0)
    ids = targets(2)
    batch = create_batch(client, retries=5, jobIds=ids)
    original = retries_service.set_job_retries
    poisoned = ids[0]

    def failing(job_ids, retries, due_date=retries_service.UNSET, **options):
        if poisoned in job_ids:
            raise RuntimeError("simulated database hiccup")
        return original(job_ids, retries, due_date, **options)

    per_id_slices(monkeypatch)
    monkeypatch.setattr(set_job_retries_type, "set_job_retries", failing)
    outcomes = drain_jobs()
    assert [outcome for _, outcome in outcomes].count("failed") == 3
    stats = statistics(client, batch["id"])
    assert stats is not None
    assert (stats["remainingJobs"], stats["completedJobs"], stats["failedJobs"]) == (1, 1, 1)
    failed_job = job_rows(batch["batchJobDefinitionId"])[0]
    assert failed_job["retries"] == 0 and "simulated database hiccup" in failed_job["exception_message"]
    assert len(incidents_of(failed_job["id"])) == 1
    assert target_job(ids[0])["retries"] == 3 and target_job(ids[1])["retries"] == 5
    # Only filter: withFailures finds it.
    assert client.get("/engine-rest/batch/statistics/count?withFailures=true").get_json() == {"count": 1}
    # The monitor keeps re-checking (due in batchPollTime), the batch stays open.
    assert count_jobs(batch["monitorJobDefinitionId"]) == 1
    assert drain_jobs() == []

    # Retrying the failed execution job lets the batch complete.
    monkeypatch.setattr(set_job_retries_type, "set_job_retries", original)
    original([failed_job["id"]], 1)
    db.session.commit()
    assert incidents_of(failed_job["id"]) == []
    assert statistics(client, batch["id"])["failedJobs"] == 0
    drain_jobs()
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()["endTime"] is not None
    assert target_job(ids[0])["retries"] == 5
    assert count_jobs(batch["monitorJobDefinitionId"]) == 0


def test_execution_job_failing_once_is_retried(client, app_context, monkeypatch, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=10, DEFAULT_JOB_RETRIES=3, JOB_RETRY_DELAY_SECONDS=0.0)
    ids = targets(3)
    batch = create_batch(client, retries=8, jobIds=ids)
    original = retries_service.set_job_retries
    calls = []

    def flaky(job_ids, retries, due_date=retries_service.UNSET, **options):
        calls.append(list(job_ids))
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return original(job_ids, retries, due_date, **options)

    per_id_slices(monkeypatch)
    monkeypatch.setattr(set_job_retries_type, "set_job_retries", flaky)
    outcomes = [outcome for _, outcome in drain_jobs()]
    assert outcomes.count("failed") == 1
    assert len(calls) == 2
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert all(target_job(job_id)["retries"] == 8 for job_id in ids)


# --- suspension ---------------------------------------------------------------------------

def test_suspend_stops_progress_and_activate_resumes(client, app_context, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, BATCH_JOBS_PER_SEED=2)
    ids = targets(3)
    batch = create_batch(client, retries=4, jobIds=ids)
    batch_id = batch["id"]
    run_one(HANDLER_BATCH_SEED)  # 2 execution jobs + the next seed
    assert client.put(f"/engine-rest/batch/{batch_id}/suspended", json={"suspended": True}).status_code == 204
    assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["suspended"] is True
    assert statistics(client, batch_id)["suspended"] is True
    for definition in (batch["seedJobDefinitionId"], batch["batchJobDefinitionId"]):
        assert all(job["suspended"] for job in job_rows(definition))
        assert db.session.get(JobDefinition, definition).suspended is True
    db.session.commit()
    assert drain_jobs() == []  # suspended jobs are not acquired
    assert progress(client, batch_id) == (2, 3, 0, 0)
    # Suspending twice is no error (idempotent).
    assert client.put(f"/engine-rest/batch/{batch_id}/suspended", json={"suspended": True}).status_code == 204

    assert client.put(f"/engine-rest/batch/{batch_id}/suspended", json={"suspended": False}).status_code == 204
    assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["suspended"] is False
    assert not any(job["suspended"] for job in job_rows(batch["batchJobDefinitionId"]))
    drain_jobs()
    assert client.get(f"/engine-rest/batch/{batch_id}").status_code == 404
    assert all(target_job(job_id)["retries"] == 4 for job_id in ids)


def test_jobs_created_by_a_suspended_batch_are_suspended(client, app_context, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, BATCH_JOBS_PER_SEED=2)
    ids = targets(3)
    batch = create_batch(client, retries=4, jobIds=ids)
    assert client.put(f"/engine-rest/batch/{batch['id']}/suspended", json={"suspended": True}).status_code == 204
    # Seed runs of the suspended batch (as if its job had been running while it was suspended).
    run_seed_directly(batch)
    execution_jobs = job_rows(batch["batchJobDefinitionId"])
    assert len(execution_jobs) == 2 and all(job["suspended"] for job in execution_jobs)
    seeds = job_rows(batch["seedJobDefinitionId"])
    assert len(seeds) == 1 and seeds[0]["suspended"]
    run_seed_directly(batch)
    assert all(job["suspended"] for job in job_rows(batch["monitorJobDefinitionId"]))
    assert len(job_rows(batch["monitorJobDefinitionId"])) == 1
    assert drain_jobs() == []
    client.put(f"/engine-rest/batch/{batch['id']}/suspended", json={})  # missing key = activate
    drain_jobs()
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404


# --- deletion -----------------------------------------------------------------------------

@pytest.mark.parametrize("cascade", [False, True])
def test_delete_running_batch(client, app_context, batch_config, targets, cascade):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, BATCH_JOBS_PER_SEED=2)
    ids = targets(3, retries=0)
    batch = create_batch(client, retries=4, jobIds=ids)
    run_one(HANDLER_BATCH_SEED)
    definitions = (batch["seedJobDefinitionId"], batch["monitorJobDefinitionId"], batch["batchJobDefinitionId"])
    assert count_jobs(batch["batchJobDefinitionId"]) == 2
    response = client.delete(f"/engine-rest/batch/{batch['id']}?cascade={str(cascade).lower()}")
    assert response.status_code == 204
    for definition in definitions:
        assert count_jobs(definition) == 0
        assert db.session.get(JobDefinition, definition) is None
    assert db.session.execute(select(func.count()).select_from(BatchSlice.__table__)).scalar_one() == 0
    db.session.commit()
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    history = client.get(f"/engine-rest/history/batch/{batch['id']}")
    if cascade:
        assert history.status_code == 404
    else:
        assert history.status_code == 200 and history.get_json()["endTime"] is not None
    # The target jobs were not touched; nothing is left to run.
    assert drain_jobs() == []
    assert all(target_job(job_id)["retries"] == 0 for job_id in ids)


def test_delete_batch_with_failed_execution_job_removes_its_incident(
        client, app_context, monkeypatch, batch_config, targets):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, DEFAULT_JOB_RETRIES=1)
    ids = targets(1)
    batch = create_batch(client, retries=4, jobIds=ids)

    def failing(*args, **kwargs):
        raise RuntimeError("nope")

    per_id_slices(monkeypatch)
    monkeypatch.setattr(set_job_retries_type, "set_job_retries", failing)
    drain_jobs()
    execution = job_rows(batch["batchJobDefinitionId"])[0]
    assert len(incidents_of(execution["id"])) == 1
    assert client.delete(f"/engine-rest/batch/{batch['id']}").status_code == 204
    assert incidents_of(execution["id"]) == []
    assert target_job(execution["id"]) is None


def test_monitor_reschedules_then_completes(client, app_context, batch_config, targets, app):
    """The monitor polls (B.5.5): not done -> a new monitor due in batchPollTime."""
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(1)
    batch = create_batch(client, retries=4, jobIds=ids)
    run_one(HANDLER_BATCH_SEED)
    assert run_one(HANDLER_BATCH_MONITOR) == "done"
    monitors = job_rows(batch["monitorJobDefinitionId"])
    assert len(monitors) == 1 and monitors[0]["due_date"] is not None
    run_one(BATCH_TYPE_SET_JOB_RETRIES)
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert count_jobs(batch["monitorJobDefinitionId"]) == 0


# --- the CLI: flask jobs retries / flask jobs batches -------------------------------------------

def test_cli_creates_a_batch_like_the_rest_endpoint(cli, client, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    ids = targets(2)
    result = cli("retries", "--retries", "4", "--ids", ",".join(ids) + ",missing",
                 "--due-date", "2030-01-01T00:00:00Z")
    assert result.exit_code == 0, result.output
    batch = json.loads(result.output)
    assert batch["type"] == "set-job-retries" and batch["totalJobs"] == 3 and batch["jobsCreated"] == 0
    assert client.get(f"/engine-rest/batch/{batch['id']}").get_json() == batch


def test_cli_query_and_clear_due_date(cli, client, app, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    failed = targets(2, retries=0, dueDate="2030-01-01T00:00:00.000+0000")
    targets(1)
    result = cli("retries", "--retries", "1", "--query", '{"noRetriesLeft": true}', "--clear-due-date")
    assert result.exit_code == 0, result.output
    batch = json.loads(result.output)
    assert batch["totalJobs"] == 2
    with app.app_context():
        drain_jobs()
    assert client.get("/engine-rest/job/count?noRetriesLeft=true").get_json() == {"count": 0}
    for job_id in failed:
        job = client.get(f"/engine-rest/job/{job_id}").get_json()
        assert job["retries"] == 1 and job["dueDate"] is None


@pytest.mark.parametrize("args, message", [
    ([], "retries is null"),
    (["--ids", "a"], "retries is null"),
    (["--retries", "1"], "You must specify at least one of jobIds or jobQuery."),
    (["--retries", "1", "--ids", ",,"], "You must specify at least one of jobIds or jobQuery."),
    (["--retries", "abc", "--ids", "a"], "retries must be an integer, got 'abc'"),
    (["--retries", "-1", "--ids", "a"], "Retries count is not greater than or equal to 0"),
    (["--retries", "1", "--query", '{"jobId": "nope"}'], "jobIds is empty"),
    (["--retries", "1", "--query", '{"dueDates": [{"operator": "bt", "value": "2020-01-01T00:00:00.000+0000"}]}'],
     "Invalid due date comparator specified: bt"),
    (["--retries", "1", "--query", "{not json"], "--query is not valid JSON"),
    (["--retries", "1", "--ids", "a", "--due-date", "soon"], "Invalid due date format"),
    (["--retries", "1", "--ids", "a", "--due-date", "2030-01-01T00:00:00Z", "--clear-due-date"],
     "use --due-date or --clear-due-date, not both"),
])
def test_cli_validation_errors_exit_non_zero(cli, app, args, message):
    result = cli("retries", *args)
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Batch.__table__)).scalar_one() == 0
        db.session.remove()


def test_cli_watch_renders_progress_until_the_batch_completes(cli, app, targets, batch_config, monkeypatch):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, BATCH_JOBS_PER_SEED=2)
    ids = targets(5)
    polls = []

    def one_step(seconds):
        """Instead of sleeping while a worker works: run one acquirable batch job."""
        polls.append(seconds)
        acquired = acquire_jobs(limit=1)
        for job_id, token, revision in acquired:
            execute_job(job_id, token, revision)

    monkeypatch.setattr("app.cli._wait", one_step)
    result = cli("retries", "--retries", "2", "--ids", ",".join(ids + ["gone"]), "--watch")
    assert result.exit_code == 0, result.output
    decoder = json.JSONDecoder()
    batch, end = decoder.raw_decode(result.output)
    rest = result.output[end:].strip().splitlines()
    bars = [line for line in rest if line.startswith("[")]
    assert bars[0].startswith("[------------------------------]   0%  0/6 jobs completed, 0 failed, 0 skipped")
    assert bars[-1].startswith("[##############################] 100%  6/6 jobs completed, 0 failed, 1 skipped")
    assert len(bars) == len(set(bars)) >= 3  # one line per change when not on a terminal
    historic, end = decoder.raw_decode("\n".join(rest[len(bars):]))
    assert historic["id"] == batch["id"] and historic["endTime"] is not None and historic["skippedElements"] == 1
    # Then the outcome (A19): the target jobs have no worker, so none has run since.
    after = "\n".join(rest[len(bars):])[end:].strip().splitlines()
    assert after == ["outcome: 5 jobs revived (1 skipped): 0 succeeded, 0 failed again, 5 not run yet"]
    assert set(polls) == {0.5}
    with app.app_context():
        assert all(target_job(job_id)["retries"] == 2 for job_id in ids)
        db.session.remove()


def test_cli_watch_shows_failures_and_suspension(app):
    from app.cli import _progress_line

    line = _progress_line({"elements": 4, "done": 1, "failed": 2, "skipped": 3, "suspended": True})
    assert line == "[#######-----------------------]  25%  1/4 jobs completed, 2 failed, 3 skipped  (suspended)"


def test_cli_watch_reports_a_batch_deleted_with_its_history(cli, app, targets, monkeypatch):
    ids = targets(1)

    def delete_it(seconds):
        batch_id = db.session.execute(select(Batch.__table__.c.id)).scalar_one()
        db.session.rollback()
        engine.delete_batch(batch_id, cascade=True)

    monkeypatch.setattr("app.cli._wait", delete_it)
    result = cli("retries", "--retries", "2", "--ids", ids[0], "--watch")
    assert result.exit_code == 1
    assert "was deleted together with its history" in result.output


def test_cli_lists_batches_with_statistics(cli, client, targets, batch_config):
    batch_config(INVOCATIONS_PER_BATCH_JOB=1)
    assert cli("batches").output.strip() == "no runtime batches"
    first = create_batch(client, retries=1, jobIds=targets(3))
    second = create_batch(client, retries=1, jobIds=targets(1))
    client.put(f"/engine-rest/batch/{second['id']}/suspended", json={"suspended": True})
    result = cli("batches")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split() == ["ID", "TYPE", "STATE", "TOTAL", "CREATED", "DONE", "LEFT", "FAILED", "SKIPPED",
                                "STARTED"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[first["id"]][1:9] == ["set-job-retries", "active", "3", "0", "0", "3", "0", "0"]
    assert rows[second["id"]][2] == "suspended"
    as_json = json.loads(cli("batches", "--json").output)
    assert [item["id"] for item in as_json] == sorted([first["id"], second["id"]])
    assert as_json == client.get("/engine-rest/batch/statistics").get_json()


def test_watch_on_a_terminal_redraws_one_line(app, client, targets, monkeypatch):
    import io

    from app.cli import watch_batch

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    batch = create_batch(client, retries=1, jobIds=targets(2))

    def one_round(seconds):
        drain_jobs()

    monkeypatch.setattr("app.cli._wait", one_round)
    out = Terminal()
    with app.app_context():
        historic = watch_batch(batch["id"], out=out)
        db.session.remove()
    assert historic["id"] == batch["id"] and historic["end_time"] is not None
    text = out.getvalue()
    assert text.startswith("\r[") and text.endswith("\n") and text.count("\n") == 1
    assert text.rstrip().endswith("2/2 jobs completed, 0 failed, 0 skipped")  # 2 ids in one slice: counted as 2


@pytest.mark.parametrize("how", ["job", "job-definition"])
def test_failed_execution_job_retried_over_rest(client, app_context, monkeypatch, batch_config, targets, how):
    """An operator's fix: PUT /job/{id}/retries, or PUT /job-definition/{batchJobDefinitionId}/retries."""
    batch_config(INVOCATIONS_PER_BATCH_JOB=1, DEFAULT_JOB_RETRIES=1)
    ids = targets(1)
    batch = create_batch(client, retries=5, jobIds=ids)
    original = retries_service.set_job_retries

    def failing(*args, **kwargs):
        raise RuntimeError("down")

    per_id_slices(monkeypatch)
    monkeypatch.setattr(set_job_retries_type, "set_job_retries", failing)
    drain_jobs()
    failed = job_rows(batch["batchJobDefinitionId"])[0]
    assert failed["retries"] == 0 and statistics(client, batch["id"])["failedJobs"] == 1
    monkeypatch.setattr(set_job_retries_type, "set_job_retries", original)
    url = (f"/engine-rest/job/{failed['id']}/retries" if how == "job"
           else f"/engine-rest/job-definition/{batch['batchJobDefinitionId']}/retries")
    response = client.put(url, json={"retries": 2})
    if response.status_code == 404 and response.get_json()["type"] == "NotFoundException":
        pytest.skip(f"{url} is not served yet")
    assert response.status_code == 204, response.get_json()
    assert statistics(client, batch["id"])["failedJobs"] == 0
    drain_jobs()
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert target_job(ids[0])["retries"] == 5


@pytest.mark.parametrize("due_date, changed", [
    ({}, {"retries", "revision", "revived_by_batch_id"}),
    ({"dueDate": "2030-01-02T03:04:05.000+0000"}, {"retries", "revision", "revived_by_batch_id", "due_date"}),
])
def test_a_plain_set_retries_slice_runs_on_its_stored_ids_and_counts_what_is_gone(
        app, client, app_context, batch_config, targets, monkeypatch, due_date, changed):
    """PostgreSQL: one statement per slice on the slice's stored ids (retries, revived-by mark,
    due date if given, incidents resolved), no id through Python; the same effects as the
    per-id path, and no other column touched."""
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("the stored-ids path exists on PostgreSQL only")
    batch_config(INVOCATIONS_PER_BATCH_JOB=4)
    ids = targets(6, retries=0)  # failed, each with its failedJob incident
    assert all(len(incidents_of(job_id)) == 1 for job_id in ids)
    per_id_calls = []
    original = set_job_retries_type.set_job_retries
    monkeypatch.setattr(set_job_retries_type, "set_job_retries",
                        lambda *args, **kwargs: per_id_calls.append(args) or original(*args, **kwargs))
    before = {job_id: dict(target_job(job_id)) for job_id in ids}
    batch = create_batch(client, retries=2, jobIds=ids + ["gone-1", "gone-2"], **due_date)
    drain_jobs()
    assert per_id_calls == []
    after = {job_id: dict(target_job(job_id)) for job_id in ids}
    assert all({key for key in after[job_id] if after[job_id][key] != before[job_id][key]} == changed
               for job_id in ids), (before, after)
    assert all(target_job(job_id)["retries"] == 2 for job_id in ids)
    assert all(target_job(job_id)["revived_by_batch_id"] == batch["id"] for job_id in ids)
    assert all(incidents_of(job_id) == [] for job_id in ids)
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["endTime"] is not None and history["skippedElements"] == 2 and history["elements"] == 8


def test_a_stored_ids_slice_that_fails_leaves_its_jobs_untouched_and_the_batch_open(
        app, client, app_context, batch_config, targets, monkeypatch):
    from app.services.jobs import retries as retries_module
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("the stored-ids path exists on PostgreSQL only")
    batch_config(INVOCATIONS_PER_BATCH_JOB=10, DEFAULT_JOB_RETRIES=1, JOB_RETRY_DELAY_SECONDS=0.0)
    ids = targets(3, retries=0)

    def failing(*args, **kwargs):
        raise RuntimeError("simulated database hiccup")

    monkeypatch.setattr(set_job_retries_type, "revive_stored_ids", failing)
    batch = create_batch(client, retries=4, jobIds=ids)
    assert [outcome for _, outcome in drain_jobs()].count("failed") == 1
    assert all(target_job(job_id)["retries"] == 0 for job_id in ids)
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 200
    monkeypatch.setattr(set_job_retries_type, "revive_stored_ids", retries_module.revive_stored_ids)


def slice_rows(batch_id):
    rows = db.session.execute(
        text("SELECT slice, size, job_ids, job_tids::text[] AS tids FROM batch_slice "
             "WHERE batch_id = :b ORDER BY slice"),
        {"b": batch_id}).all()
    db.session.commit()
    return rows


def row_address(job_id):
    address = db.session.execute(text("SELECT ctid::text FROM job WHERE id = :id"), {"id": job_id}).scalar()
    db.session.commit()
    return address


def test_a_query_selected_slice_reaches_its_jobs_by_address_and_finds_moved_ones_by_id(
        app, client, app_context, batch_config, targets):
    """PostgreSQL: a slice selected by a job query keeps each job's row address beside its id;
    its statement reaches the rows by address (a TID scan) and checks each row's id, so a job
    updated since (a new row version elsewhere) is found by id, and an address that now holds
    another job changes nothing there. Slices of explicit ids keep no addresses."""
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("row addresses exist on PostgreSQL only")
    batch_config(INVOCATIONS_PER_BATCH_JOB=4)
    ids = targets(6, retries=0)
    bystander = targets(1, retries=3)[0]
    batch = create_batch(client, retries=2, jobQuery={"noRetriesLeft": True})
    slices = slice_rows(batch["id"])
    assert [row.size for row in slices] == [4, 2]
    assert all(len(row.tids) == len(row.job_ids) for row in slices)
    assert all(row_address(job_id) == tid for row in slices for job_id, tid in zip(row.job_ids, row.tids))
    first, second = slices[0].job_ids[:2]
    # One job moves (any update writes a new row version at a new address) ...
    db.session.execute(text("UPDATE job SET exception_message = 'moved' WHERE id = :id"), {"id": first})
    # ... and another's stored address is made to point at a job the batch did not select.
    db.session.execute(text("UPDATE batch_slice SET job_tids[2] = CAST(:tid AS tid) WHERE batch_id = :b AND slice = 0"),
                       {"tid": row_address(bystander), "b": batch["id"]})
    db.session.commit()
    bystander_before = dict(target_job(bystander))

    statement = retries_service._revive_statement(engine._STORED_SLICE, False)
    compiled = statement.compile(dialect=db.engine.dialect)
    parameters = {**compiled.params, "slice_batch_id": batch["id"], "slice_number": 0, "new_retries": 2,
                  "revived_by": batch["id"]}
    # The plan on a table of a few thousand jobs (on seven, any planner reads the table whole):
    # copies of the bystander under new ids, then fresh statistics.
    columns = ", ".join(column.name for column in Job.__table__.c if column.name != "id")
    db.session.execute(text(f"INSERT INTO job (id, {columns}) SELECT 'filler-' || n, {columns} "
                            f"FROM job, generate_series(1, 5000) AS n WHERE job.id = :id"), {"id": bystander})
    db.session.commit()
    connection = db.session.connection()
    connection.exec_driver_sql("ANALYZE job")
    plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + str(compiled), parameters))
    db.session.commit()
    assert "Tid Scan on job" in plan and "TID Cond: (ctid = located.tid)" in plan, plan

    drain_jobs()
    assert all(target_job(job_id)["retries"] == 2 for job_id in ids)
    assert target_job(first)["exception_message"] == "moved"
    assert all(target_job(job_id)["revived_by_batch_id"] == batch["id"] for job_id in (first, second))
    assert all(incidents_of(job_id) == [] for job_id in ids)
    assert dict(target_job(bystander)) == bystander_before
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["endTime"] is not None and history["skippedElements"] == 0 and history["elements"] == 6

    named = create_batch(client, retries=1, jobIds=ids[:2])
    assert [(row.size, row.tids) for row in slice_rows(named["id"])] == [(2, None)]
