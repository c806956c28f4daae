"""Set Job Retries Async end to end: REST -> batch -> seed/execution/monitor jobs on real workers."""

import pytest
from requests.auth import HTTPBasicAuth
from sqlalchemy import func, select, update

from app.core.dates import format_date, utcnow
from app.models import BatchSlice, Incident, Job
from tests.conftest import generic_client_with_credentials
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

BASE = "/engine-rest"


def gone(client, path):
    return client.get(path).status_code == 404


def test_failed_jobs_come_back_to_life_through_a_batch(e2e_client, start_worker, db_session):
    """The product's story: jobs fail to 0 retries, the outage ends, one request revives them."""
    start_worker()
    jobs = e2e_client.post("/api/jobs", json=[{
        "handlerType": "demo.fail-until", "processDefinitionKey": "payment",
        "handlerConfiguration": {"message": "payment gateway down", "failUntil": "2999-01-01T00:00:00.000+0000"},
    } for _ in range(12)]).get_json()
    ids = [job["id"] for job in jobs]
    wait_for(lambda: e2e_client.post(f"{BASE}/job/count", json={"noRetriesLeft": True}).get_json()["count"] == 12,
             timeout=60, message="all 12 jobs to fail three times")
    assert db_session.execute(select(func.count()).select_from(Incident)).scalar_one() == 12
    # The outage is over.
    db_session.execute(update(Job).where(Job.id.in_(ids)).values(
        handler_configuration={"message": "payment gateway down", "failUntil": format_date(utcnow())}))
    db_session.commit()

    response = e2e_client.post(f"{BASE}/job/retries", json={"retries": 2, "jobQuery": {"noRetriesLeft": True}})
    assert response.status_code == 200
    batch = response.get_json()
    assert batch["type"] == "set-job-retries" and batch["jobsCreated"] == 0 and batch["totalJobs"] >= 1

    wait_for(lambda: e2e_client.post(f"{BASE}/job/count", json={"jobIds": ids}).get_json()["count"] == 0,
             timeout=60, message="the revived jobs to succeed and disappear")
    wait_for(lambda: gone(e2e_client, f"{BASE}/batch/{batch['id']}"), timeout=30, message="the batch to complete")
    history = e2e_client.get(f"{BASE}/history/batch/{batch['id']}").get_json()
    assert history["endTime"] is not None and history["executionStartTime"] is not None
    db_session.rollback()
    assert db_session.execute(select(func.count()).select_from(Incident)).scalar_one() == 0


def test_a_large_batch_with_several_seed_runs_completes_and_reports_progress(
        e2e_client, start_worker, batch_settings, db_session):
    batch_settings(INVOCATIONS_PER_BATCH_JOB=40, BATCH_JOBS_PER_SEED=4)
    start_worker()
    created = []
    for _ in range(3):
        created += e2e_client.post("/api/jobs", json=[
            {"handlerType": "test.unserved", "retries": 0, "exceptionMessage": "boom"} for _ in range(500)
        ]).get_json()
    ids = [job["id"] for job in created]
    response = e2e_client.post(f"{BASE}/job/retries", json={
        "retries": 5, "jobIds": ids[:700] + ["no-such-job"], "jobQuery": {"noRetriesLeft": True}})
    assert response.status_code == 200
    batch = response.get_json()
    assert batch["totalJobs"] == -(-1501 // 40) and batch["invocationsPerBatchJob"] == 40
    assert batch["batchJobsPerSeed"] == 4

    snapshots = []

    def finished():
        stats = e2e_client.get(f"{BASE}/batch/statistics", query_string={"batchId": batch["id"]}).get_json()
        if stats:
            snapshots.append(stats[0])
            return False
        return gone(e2e_client, f"{BASE}/batch/{batch['id']}")

    wait_for(finished, timeout=120, interval=0.02, message="the batch to complete")
    completed = [s["completedJobs"] for s in snapshots]
    assert completed == sorted(completed), "progress never goes backwards"
    assert all(s["jobsCreated"] <= s["totalJobs"] for s in snapshots)

    history = e2e_client.get(f"{BASE}/history/batch/{batch['id']}").get_json()
    assert history["endTime"] is not None
    assert history["skippedElements"] == 1 and history["elements"] == 1501
    counts = e2e_client.post(f"{BASE}/job/count", json={"jobIds": ids, "withRetriesLeft": True}).get_json()
    assert counts["count"] == 1500
    db_session.rollback()
    assert db_session.execute(select(func.count()).select_from(Incident)).scalar_one() == 0
    assert db_session.execute(select(func.count()).select_from(BatchSlice)).scalar_one() == 0
    assert e2e_client.get(f"{BASE}/job/count", query_string={"jobDefinitionId": batch["batchJobDefinitionId"]}
                          ).get_json()["count"] == 0


def pycamunda_call(request, credentials):
    """Run a pycamunda request object with HTTP Basic credentials (its ``auth`` attribute)."""
    request.auth = HTTPBasicAuth(*credentials)
    return request()


def test_third_party_clients_drive_batches_unmodified(e2e_client, e2e_server, e2e_admin, start_worker):
    """pycamunda and generic-camunda-client, as published on PyPI, against the running service
    with authentication on: both send the administrator's credentials."""
    import generic_camunda_client as gcc
    import pycamunda.batch

    def call(request):
        return pycamunda_call(request, e2e_admin)

    jobs = e2e_client.post("/api/jobs", json=[
        {"handlerType": "test.unserved", "retries": 0, "tenantId": None} for _ in range(30)]).get_json()
    api = generic_client_with_credentials(gcc, e2e_server, *e2e_admin)
    batch = gcc.JobApi(api).set_job_retries_async_operation(
        set_job_retries_dto=gcc.SetJobRetriesDto(job_ids=[j["id"] for j in jobs[:10]],
                                                 job_query=gcc.JobQueryDto(no_retries_left=True), retries=1))
    assert batch.type == "set-job-retries" and batch.total_jobs == 1

    fetched = call(pycamunda.batch.Get(e2e_server, id_=batch.id))
    assert fetched.id_ == batch.id and fetched.total_jobs == 1 and fetched.suspended is False
    assert [b.id_ for b in call(pycamunda.batch.GetList(e2e_server))] == [batch.id]
    assert call(pycamunda.batch.Count(e2e_server)) == 1
    stats = call(pycamunda.batch.GetStats(e2e_server, batch_id=batch.id))
    assert stats[0].remaining_jobs == 1 and stats[0].failed_jobs == 0
    call(pycamunda.batch.Suspend(e2e_server, id_=batch.id))
    assert call(pycamunda.batch.Get(e2e_server, id_=batch.id)).suspended is True
    assert call(pycamunda.batch.GetList(e2e_server, suspended=True))[0].id_ == batch.id
    call(pycamunda.batch.Activate(e2e_server, id_=batch.id))
    assert gcc.BatchApi(api).get_batch(batch.id).suspended is False
    assert gcc.BatchApi(api).get_batch_statistics(batch_id=batch.id)[0].total_jobs == 1

    start_worker()
    wait_for(lambda: gone(e2e_client, f"{BASE}/batch/{batch.id}"), timeout=30, message="the batch to complete")
    history = gcc.HistoricBatchApi(api).get_historic_batch(batch.id)
    assert history.end_time is not None and history.total_jobs == 1
    assert e2e_client.post(f"{BASE}/job/count", json={"withRetriesLeft": True}).get_json()["count"] == 30

    # A second batch, deleted through pycamunda with cascade: no runtime, no history left.
    second = gcc.JobApi(api).set_job_retries_async_operation(
        set_job_retries_dto=gcc.SetJobRetriesDto(job_ids=[jobs[0]["id"]], retries=0))
    call(pycamunda.batch.Delete(e2e_server, id_=second.id, cascade=True))
    assert gone(e2e_client, f"{BASE}/batch/{second.id}")
    assert gone(e2e_client, f"{BASE}/history/batch/{second.id}")

    # What the operators did is in the user operation log, under the administrator's name.
    log = e2e_client.get(f"{BASE}/history/user-operation", query_string={"entityType": "Batch"}).get_json()
    assert [(entry["operationType"], entry["batchId"], entry["userId"]) for entry in log] == [
        ("SuspendBatch", batch.id, e2e_admin[0]), ("ActivateBatch", batch.id, e2e_admin[0]),
        ("Delete", second.id, e2e_admin[0])]


def test_third_party_clients_report_a_wrong_password_as_401(e2e_server, e2e_admin):
    import generic_camunda_client as gcc
    import pycamunda
    import pycamunda.batch

    with pytest.raises(pycamunda.Unauthorized) as refused:
        pycamunda_call(pycamunda.batch.Count(e2e_server), (e2e_admin[0], "wrong"))
    assert str(refused.value) == "The user name or password is not valid"
    api = generic_client_with_credentials(gcc, e2e_server, e2e_admin[0], "wrong")
    with pytest.raises(gcc.ApiException) as rejected:
        gcc.BatchApi(api).get_batches_count()
    assert rejected.value.status == 401
