"""``/history/job-log`` (spec C.3, A19): the events the executor, ingestion, deletion and the
batch engine write, the HistoricJobLogDto, filters, sorting, the stack trace, the setting that
turns the log off and the history cleanup."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from app.core.dates import utcnow
from app.extensions import db
from app.models import JobLog
from app.services import job_log as job_log_service
from app.services.executor.runtime import ExecutorRuntime
from tests.conftest import is_postgres
from tests.support import assert_400, count_of, drain_jobs, recorded_statements, run_one

BASE = "/engine-rest/history/job-log"
FAR_FUTURE = "2999-01-01T00:00:00.000+0000"
DTO_KEYS = [
    "id", "timestamp", "removalTime", "jobId", "jobDueDate", "jobRetries", "jobPriority", "jobExceptionMessage",
    "jobDefinitionId", "jobDefinitionType", "jobDefinitionConfiguration", "activityId", "failedActivityId",
    "executionId", "processInstanceId", "processDefinitionId", "processDefinitionKey", "deploymentId",
    "tenantId", "hostname", "rootProcessInstanceId", "batchId", "creationLog", "failureLog", "successLog",
    "deletionLog",
]


@pytest.fixture
def config(app):
    keys = ("JOB_LOG_ENABLED", "JOB_LOG_TTL_DAYS", "JOB_LOG_CLEANUP_CHUNK", "JOB_LOG_CLEANUP_MAX_CHUNKS",
            "JOB_RETRY_DELAY_SECONDS", "INVOCATIONS_PER_BATCH_JOB", "INVOCATIONS_PER_BATCH_JOB_BY_TYPE")
    saved = {key: app.config[key] for key in keys}
    app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = {}
    yield app.config.update
    app.config.update(saved)


def logs(client, **params):
    response = client.get(BASE, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def kind(entry):
    return next(name for name in ("creationLog", "failureLog", "successLog", "deletionLog") if entry[name])


def run_everything(app):
    with app.app_context():
        outcomes = drain_jobs()
        db.session.remove()
    return outcomes


def failing_job(make_jobs, message="boom", **extra):
    return make_jobs({"handlerType": "demo.fail-until",
                      "handlerConfiguration": {"failUntil": FAR_FUTURE, "message": message}, **extra})[0]


# --- the events -----------------------------------------------------------------------------

def test_a_job_that_succeeds_has_a_creation_and_a_success_event(app, client, make_jobs):
    job = make_jobs({"priority": 7, "activityId": "task", "processDefinitionKey": "invoice",
                     "processInstanceId": "pi-1", "executionId": "ex-1", "tenantId": "t1"})[0]
    created = logs(client, jobId=job["id"])
    assert [kind(entry) for entry in created] == ["creationLog"]
    assert list(created[0]) == DTO_KEYS
    run_everything(app)
    entries = logs(client, jobId=job["id"], sortBy="occurrence", sortOrder="asc")
    assert [kind(entry) for entry in entries] == ["creationLog", "successLog"]
    for entry in entries:
        assert entry["jobId"] == job["id"]
        assert entry["jobDefinitionId"] == job["jobDefinitionId"]
        assert entry["jobDefinitionType"] == "demo.noop"
        assert (entry["jobPriority"], entry["jobRetries"], entry["activityId"]) == (7, 3, "task")
        assert (entry["processInstanceId"], entry["executionId"], entry["tenantId"]) == ("pi-1", "ex-1", "t1")
        assert entry["processDefinitionKey"] == "invoice"
        assert entry["jobExceptionMessage"] is None and entry["batchId"] is None
        assert entry["hostname"] == app.config["JOB_LOG_HOSTNAME"]
        assert [entry[name] for name in ("creationLog", "failureLog", "successLog", "deletionLog")].count(True) == 1
    # Ids are decimal numbers in the order of the events (A19).
    assert int(entries[0]["id"]) < int(entries[1]["id"])
    one = client.get(f"{BASE}/{entries[1]['id']}")
    assert one.status_code == 200 and one.get_json() == entries[1]


def test_failures_log_the_retries_before_each_failure_and_the_stacktrace(app, client, make_jobs, config):
    config(JOB_RETRY_DELAY_SECONDS=0.0)
    job = failing_job(make_jobs, message="disk full", retries=2, activityId="send")
    run_everything(app)
    entries = logs(client, jobId=job["id"], sortBy="occurrence", sortOrder="asc")
    assert [(kind(entry), entry["jobRetries"]) for entry in entries] == [
        ("creationLog", 2), ("failureLog", 2), ("failureLog", 1)]
    failure = entries[1]
    assert failure["jobExceptionMessage"] == "disk full"
    assert failure["failedActivityId"] == "send"
    trace = client.get(f"{BASE}/{failure['id']}/stacktrace")
    assert trace.status_code == 200 and trace.mimetype == "text/plain"
    assert "RuntimeError: disk full" in trace.get_data(as_text=True)
    # A creation event has no stack trace.
    assert client.get(f"{BASE}/{entries[0]['id']}/stacktrace").status_code == 204
    assert count_of(client.get(f"{BASE}/count", query_string={"failureLog": "true"})) == 2
    assert count_of(client.post(f"{BASE}/count", json={"jobExceptionMessage": "disk full"})) == 2


def test_a_manual_execute_at_zero_retries_logs_zero(app, client, make_jobs):
    job = failing_job(make_jobs, retries=0)
    assert client.post(f"/engine-rest/job/{job['id']}/execute").status_code == 500
    failures = logs(client, jobId=job["id"], failureLog="true")
    assert [entry["jobRetries"] for entry in failures] == [0]


def test_deleting_a_job_logs_its_deletion(client, make_jobs):
    job = make_jobs({"handlerType": "test.unserved"})[0]
    assert client.delete(f"/engine-rest/job/{job['id']}").status_code == 204
    entries = logs(client, jobId=job["id"])
    assert [kind(entry) for entry in entries] == ["creationLog", "deletionLog"]
    assert entries[1]["jobRetries"] == 3


def test_batch_jobs_log_every_event_with_the_batch_id(app, client, make_jobs, config):
    config(INVOCATIONS_PER_BATCH_JOB=1)
    targets = [job["id"] for job in make_jobs({}, {}, handlerType="test.unserved", retries=0)]
    batch = client.post("/engine-rest/job/retries", json={"jobIds": targets, "retries": 2}).get_json()
    run_everything(app)
    entries = logs(client, jobDefinitionConfiguration=batch["id"])
    by_type = {}
    for entry in entries:
        assert entry["batchId"] == batch["id"]
        assert entry["jobDefinitionConfiguration"] == batch["id"]
        assert entry["processDefinitionKey"] is None
        by_type.setdefault(entry["jobDefinitionType"], []).append(kind(entry))
    assert sorted(by_type["batch-seed-job"]) == ["creationLog", "successLog"]
    assert sorted(by_type["set-job-retries"]) == ["creationLog"] * 2 + ["successLog"] * 2
    assert "creationLog" in by_type["batch-monitor-job"]
    # Deleting the historic batch removes the events of the batch's own jobs (C.3.4).
    assert client.delete(f"/engine-rest/history/batch/{batch['id']}").status_code == 204
    assert logs(client, jobDefinitionConfiguration=batch["id"]) == []
    # ... and not those of its target jobs.
    assert len(logs(client, jobId=targets[0])) == 1


def test_deleting_a_running_batch_logs_the_deletion_of_its_jobs(client, make_jobs):
    targets = [make_jobs({"handlerType": "test.unserved", "retries": 0})[0]["id"]]
    batch = client.post("/engine-rest/job/retries", json={"jobIds": targets, "retries": 2}).get_json()
    assert client.delete(f"/engine-rest/batch/{batch['id']}").status_code == 204
    entries = logs(client, batchId=batch["id"], jobDefinitionType="batch-seed-job")
    assert [kind(entry) for entry in entries] == ["creationLog", "deletionLog"]


def test_the_setting_turns_the_log_off(app, client, make_jobs, config):
    config(JOB_LOG_ENABLED=False)
    job = make_jobs({})[0]
    failing = failing_job(make_jobs, retries=1)
    run_everything(app)
    assert client.delete(f"/engine-rest/job/{failing['id']}").status_code == 204
    assert logs(client) == []
    assert client.get(f"/engine-rest/job/{job['id']}").status_code == 404  # it did run


# --- the query ------------------------------------------------------------------------------

@pytest.fixture
def three_jobs(app, client, make_jobs, config):
    config(JOB_RETRY_DELAY_SECONDS=0.0)
    a = make_jobs({"priority": 1, "activityId": "a", "tenantId": "t1"})[0]
    b = failing_job(make_jobs, retries=1, priority=5, activityId="b", executionId="e-b", tenantId="t2")
    c = make_jobs({"priority": 9, "activityId": "c", "handlerType": "test.unserved"})[0]
    run_everything(app)
    return a, b, c


def test_filters(client, three_jobs):
    a, b, c = three_jobs
    assert {e["jobId"] for e in logs(client, activityIdIn="a,c")} == {a["id"], c["id"]}
    assert {e["jobId"] for e in logs(client, failedActivityIdIn="b")} == {b["id"]}
    assert {e["jobId"] for e in logs(client, executionIdIn="e-b")} == {b["id"]}
    assert {e["jobId"] for e in logs(client, jobPriorityHigherThanOrEquals=5)} == {b["id"], c["id"]}
    assert {e["jobId"] for e in logs(client, jobPriorityLowerThanOrEquals=4)} == {a["id"]}
    assert logs(client, jobPriorityHigherThanOrEquals=6, jobPriorityLowerThanOrEquals=5) == []
    assert {e["jobId"] for e in logs(client, tenantIdIn="t1,t2")} == {a["id"], b["id"]}
    assert {e["jobId"] for e in logs(client, tenantIdIn="t1", withoutTenantId="true")} == {c["id"]}
    assert [kind(e) for e in logs(client, jobId=a["id"], successLog="true")] == ["successLog"]
    # Several state flags: the last one Camunda applies (deletion) wins.
    assert logs(client, creationLog="true", deletionLog="true") == []
    assert {kind(e) for e in logs(client, creationLog="true")} == {"creationLog"}
    assert len(logs(client, jobDefinitionType="test.unserved")) == 1
    assert len(logs(client, hostname="")) == 5  # an empty hostname is no filter
    first = logs(client)[0]
    assert [e["id"] for e in logs(client, logId=first["id"])] == [first["id"]]
    assert logs(client, logId="not-a-number") == []


def test_post_queries_sort_and_page(client, three_jobs):
    a, b, c = three_jobs
    body = {"sorting": [{"sortBy": "jobPriority", "sortOrder": "desc"}, {"sortBy": "occurrence", "sortOrder": "asc"}]}
    entries = client.post(BASE, json=body).get_json()
    assert [(e["jobPriority"], kind(e)) for e in entries] == [
        (9, "creationLog"), (5, "creationLog"), (5, "failureLog"), (1, "creationLog"), (1, "successLog")]
    page = client.post(f"{BASE}?firstResult=1&maxResults=2", json=body).get_json()
    assert page == entries[1:3]
    default = logs(client)
    assert [int(e["id"]) for e in default] == sorted(int(e["id"]) for e in default)
    by_retries = logs(client, sortBy="jobRetries", sortOrder="asc", jobId=b["id"])
    assert [e["jobRetries"] for e in by_retries] == [1, 1]


@pytest.mark.parametrize("params, message", [
    ({"activityIdIn": "a,,b"}, "activityIds contains empty string"),
    ({"activityIdIn": ""}, "activityIds contains empty string"),
    ({"executionIdIn": "x,"}, "executionIds contains empty string"),
])
def test_empty_list_items_are_camundas_not_valid_exception(client, params, message):
    response = client.get(BASE, query_string=params)
    assert response.status_code == 400
    assert response.get_json() == {"type": "NotValidException", "message": message, "code": None}


def test_bad_parameters_are_400(client):
    assert_400(client.get(BASE, query_string={"sortBy": "nope", "sortOrder": "asc"}),
               "Cannot set query parameter 'sortBy' to value 'nope'")
    assert_400(client.get(f"{BASE}/count", query_string={"jobPriorityHigherThanOrEquals": "x"}),
               "Cannot set query parameter 'jobPriorityHigherThanOrEquals' to value 'x': "
               "Cannot convert value x to java type java.lang.Long")
    assert_400(client.post(BASE, json={"sortBy": "jobId"}),
               "Only a single sorting parameter specified. sortBy and sortOrder required")
    assert_400(client.post(BASE, json=[1]), "The historic job log query must be a JSON object, e.g. "
                                            '{"failureLog": true}')


@pytest.mark.parametrize("log_id", ["123456", "abc", "9" * 40])
def test_unknown_ids_are_404(client, log_id):
    response = client.get(f"{BASE}/{log_id}")
    assert response.status_code == 404
    assert response.get_json() == {"type": "InvalidRequestException",
                                   "message": f"Historic job log with id {log_id} does not exist", "code": None}
    trace = client.get(f"{BASE}/{log_id}/stacktrace")
    assert trace.status_code == 404
    assert trace.get_json()["message"] == f"No historic job log found with id {log_id}: historicJobLog is null"


# --- history cleanup ------------------------------------------------------------------------

def _old_rows(app, count, age_days):
    moment = utcnow() - timedelta(days=age_days)
    with app.app_context():
        db.session.execute(insert(JobLog.__table__), [
            dict(timestamp=moment, job_id=f"old-{age_days}-{n}", job_state=0, job_priority=0)
            for n in range(count)])
        db.session.commit()
        db.session.remove()


def _log_count(app):
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(JobLog.__table__)).scalar_one()
        db.session.remove()
    return count


def test_the_workers_sweep_deletes_rows_past_the_time_to_live_in_chunks(app, config):
    _old_rows(app, 7, age_days=10)
    _old_rows(app, 3, age_days=1)
    config(JOB_LOG_TTL_DAYS=None)
    with app.app_context():
        ExecutorRuntime(app, worker_id="cleanup-test").maintain()
        db.session.remove()
    assert _log_count(app) == 10  # no time to live: kept
    config(JOB_LOG_TTL_DAYS=5, JOB_LOG_CLEANUP_CHUNK=2, JOB_LOG_CLEANUP_MAX_CHUNKS=2)
    with app.app_context():
        ExecutorRuntime(app, worker_id="cleanup-test").maintain()
        db.session.remove()
    assert _log_count(app) == 6  # two chunks of two per sweep
    with app.app_context():
        assert job_log_service.cleanup(utcnow()) == 3  # 2, then 1: the chunk was not full
        db.session.remove()
    assert _log_count(app) == 3
    with app.app_context():
        assert job_log_service.cleanup(utcnow()) == 0
        db.session.remove()


def test_cleanup_is_off_without_a_time_to_live(app, config):
    config(JOB_LOG_TTL_DAYS=None)
    _old_rows(app, 2, age_days=4000)
    with app.app_context():
        assert job_log_service.cleanup(datetime(2100, 1, 1)) == 0
        db.session.remove()


# --- the executor runtime's finishing statement ----------------------------------------------

def _finishing_writes(app, make_jobs, count):
    make_jobs(*[{} for _ in range(count)])
    with recorded_statements(app) as sent:
        with app.app_context():
            runtime = ExecutorRuntime(app, worker_id="w-log")
            assert runtime.run_rounds() == count
            runtime.close_connection()
            db.session.remove()
    # A data-modifying WITH is a write too (writes() looks at the first word only).
    return [statement for statement in sent if statement.lstrip().upper().startswith(("WITH", "INSERT", "DELETE"))
            and ("INSERT INTO job_log" in statement or "DELETE FROM job " in statement)]


def test_the_runtime_logs_successes_in_the_finishing_statement(app, client, make_jobs, config):
    finishing = _finishing_writes(app, make_jobs, 3)
    if is_postgres(app):
        # One statement per job: the fenced DELETE and its success event together.
        assert len(finishing) == 3
        assert all(s.lstrip().upper().startswith("WITH") and "DELETE FROM job" in s for s in finishing)
    else:
        assert len(finishing) == 6  # SQLite: the event, then the DELETE, in one transaction
    assert count_of(client.get(f"{BASE}/count", query_string={"successLog": "true"})) == 3


def test_the_runtime_finishes_with_the_bare_delete_when_the_log_is_off(app, client, make_jobs, config):
    config(JOB_LOG_ENABLED=False)
    finishing = _finishing_writes(app, make_jobs, 2)
    assert len(finishing) == 2 and not any("job_log" in statement for statement in finishing)
    assert logs(client) == []


# --- set-based writing ------------------------------------------------------------------------

def _log_inserts(statements):
    return [s for s in statements if "INSERT INTO job_log" in s]


def test_ingestion_and_a_seed_write_their_creation_events_in_one_statement(app, client, make_jobs, config):
    config(INVOCATIONS_PER_BATCH_JOB=1)
    with recorded_statements(app) as sent:
        jobs = make_jobs(*[{"handlerType": "test.unserved", "retries": 0} for _ in range(40)])
    assert len(_log_inserts(sent)) == 1
    assert count_of(client.get(f"{BASE}/count", query_string={"creationLog": "true"})) == 40
    batch = client.post("/engine-rest/job/retries", json={"jobIds": [job["id"] for job in jobs], "retries": 1})
    with app.app_context():
        with recorded_statements(app) as sent:
            assert run_one("batch-seed-job") == "done"
        db.session.remove()
    # The creation events of the seed's 40 execution jobs and of the monitor job: one statement
    # each, and the seed's own success event in its finishing statement.
    assert len(_log_inserts(sent)) == 3
    assert count_of(client.get(f"{BASE}/count", query_string={
        "creationLog": "true", "jobDefinitionType": "set-job-retries"})) == 40
    assert batch.status_code == 200


def test_text_no_database_can_store_matches_nothing(client, make_jobs):
    make_jobs({})
    assert logs(client, jobId="a\x00b") == []
    assert client.post(BASE, json={"activityIdIn": ["\ud800"]}).get_json() == []
    assert client.get(f"{BASE}/a%00b").status_code == 404
