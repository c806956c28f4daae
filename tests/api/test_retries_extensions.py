"""Our extensions of set-job-retries (A20) over HTTP: the jobQuery typo guard, the preview,
``dueDateSpreadSeconds`` and ``POST /process-instance/job-retries``. Idempotency keys are in
tests/api/test_idempotency.py."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.dates import parse_date, utcnow
from app.extensions import db
from app.models import Job
from tests.support import BATCH_TARGET, assert_400, drain_jobs, recorded_statements, table_counts, writes

PREVIEW_KEYS = ["count", "missingJobIds", "byExceptionMessage", "byActivityId", "byJobDefinitionId", "byTenantId",
                "sampleJobIds"]


def jobs_by_id(app, ids):
    with app.app_context():
        rows = db.session.execute(select(Job.__table__).where(Job.__table__.c.id.in_(ids))).mappings().all()
        db.session.remove()
    return {row["id"]: dict(row) for row in rows}


def run_batches(app):
    with app.app_context():
        outcomes = [outcome for _, outcome in drain_jobs()]
        db.session.remove()
    assert "failed" not in outcomes


# --- 7. the typo guard -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/engine-rest/job/retries", "/engine-rest/job/retries/preview",
                                  "/engine-rest/engine/default/job/retries"])
def test_unknown_job_query_property_is_a_400_naming_it(client, app, targets, path):
    targets(2, retries=0)
    before = table_counts(app)
    response = client.post(path, json={"retries": 1, "jobQuery": {"noRetriesLeftt": True}})
    assert_400(response, "Unknown property 'noRetriesLeftt' in jobQuery")
    assert table_counts(app) == before


def test_the_first_unknown_property_is_named_and_known_ones_pass(client, targets):
    targets(1, retries=0)
    body = {"retries": 1, "jobQuery": {"noRetriesLeft": True, "tenantIdx": ["a"], "activityid": "x"}}
    assert_400(client.post("/engine-rest/job/retries", json=body), "Unknown property 'tenantIdx' in jobQuery")
    # Every property of the job query is known, sorting included.
    body = {"retries": 1, "jobQuery": {"noRetriesLeft": True, "sortBy": "jobId", "sortOrder": "asc",
                                       "sorting": [{"sortBy": "jobId", "sortOrder": "desc"}], "tenantIdIn": None}}
    assert client.post("/engine-rest/job/retries", json=body).status_code == 200


def test_the_guard_comes_after_the_fields_checks(client):
    # retries first, as in Camunda's order (B.3.2).
    assert_400(client.post("/engine-rest/job/retries", json={"jobQuery": {"nope": 1}}), "retries is null")


def test_post_job_and_the_top_level_stay_lenient(client, targets):
    ids = targets(2, retries=0)
    # Cockpit sends firstResult in its bodies: POST /job ignores what it does not know (A6).
    response = client.post("/engine-rest/job", json={"noRetriesLeft": True, "firstResult": 0, "typo": 1})
    assert response.status_code == 200 and sorted(job["id"] for job in response.get_json()) == sorted(ids)
    # The top level of POST /job/retries ignores unknown properties as Camunda does.
    response = client.post("/engine-rest/job/retries", json={"retries": 1, "jobIds": ids, "extra": True})
    assert response.status_code == 200 and response.get_json()["type"] == "set-job-retries"


# --- 8. the preview ----------------------------------------------------------------------------

def test_preview_answers_the_selection_and_writes_nothing(app, client, targets):
    failing = targets(3, retries=0, exceptionMessage="timeout", activityId="call", tenantId="t1")
    failing += targets(2, retries=0, exceptionMessage="refused", activityId="call")
    failing += targets(1, retries=0, exceptionMessage=None, activityId="send", tenantId="t1")
    healthy = targets(2, retries=3, exceptionMessage="timeout")
    before = table_counts(app)
    body = {"retries": 3, "jobIds": [healthy[0], "gone-1", "gone-2"], "jobQuery": {"noRetriesLeft": True}}
    with recorded_statements(app) as sent:
        response = client.post("/engine-rest/job/retries/preview", json=body)
    assert response.status_code == 200, response.get_json()
    assert writes(sent) == [] and table_counts(app) == before
    preview = response.get_json()
    assert list(preview) == PREVIEW_KEYS
    assert preview["count"] == 7  # 6 failing + the explicit healthy one
    assert preview["missingJobIds"] == ["gone-1", "gone-2"]
    assert preview["byExceptionMessage"] == [{"value": "timeout", "count": 4}, {"value": "refused", "count": 2},
                                             {"value": None, "count": 1}]
    # Ties by value, NULL last: the healthy job has no activity.
    assert preview["byActivityId"] == [{"value": "call", "count": 5}, {"value": "send", "count": 1},
                                       {"value": None, "count": 1}]
    assert preview["byTenantId"] == [{"value": "t1", "count": 4}, {"value": None, "count": 3}]
    assert sum(item["count"] for item in preview["byJobDefinitionId"]) == 7
    assert preview["sampleJobIds"] and set(preview["sampleJobIds"]) <= set(failing + healthy[:1])
    assert len(preview["sampleJobIds"]) <= 10


def test_preview_breakdowns_are_the_20_largest_largest_first(client, targets):
    for index in range(25):
        targets(index % 5 + 1, retries=0, exceptionMessage=f"error {index:02d}")
    preview = client.post("/engine-rest/job/retries/preview",
                          json={"retries": 1, "jobQuery": {"noRetriesLeft": True}}).get_json()
    assert preview["count"] == sum(index % 5 + 1 for index in range(25))
    messages = preview["byExceptionMessage"]
    assert len(messages) == 20
    counts = [item["count"] for item in messages]
    assert counts == sorted(counts, reverse=True) and counts[:5] == [5] * 5 and counts[-5:] == [2] * 5
    # The five messages of one job each are the ones left out.
    assert not {item["value"] for item in messages} & {f"error {index:02d}" for index in range(0, 25, 5)}
    # Ties by value: "error 04" (5 jobs) comes before "error 09" (5 jobs).
    assert messages[0] == {"value": "error 04", "count": 5}


def test_preview_counts_each_column_across_the_values_of_the_others(client, make_jobs):
    """PostgreSQL groups the columns in pairs (message with tenant, activity with job
    definition) and sums per column: a message spread over tenants and processes, an activity
    over job definitions, NULLs included, each still count once per job, as SQLite's one
    GROUP BY per column counts them."""
    from collections import Counter

    rows = [  # (exceptionMessage, tenantId, processDefinitionKey, activityId, jobs)
        ("timeout", "t1", "invoice", "call", 3), ("timeout", "t2", "billing", "call", 2),
        ("timeout", None, "invoice", "send", 1), ("refused", "t1", "billing", "send", 2),
        (None, "t2", "invoice", None, 4), ("refused", None, "billing", "call", 1),
    ]
    jobs = []  # the JobDtos, with the activityId they were created with (a JobDto has none)
    for message, tenant, key, activity, count in rows:
        jobs += [dict(job, activityId=activity) for job in make_jobs(
            *[{} for _ in range(count)], handlerType=BATCH_TARGET, retries=0, exceptionMessage=message,
            tenantId=tenant, processDefinitionKey=key, activityId=activity)]
    preview = client.post("/engine-rest/job/retries/preview",
                          json={"retries": 1, "jobQuery": {"noRetriesLeft": True}}).get_json()

    def expected(name):
        counts = Counter(job[name] for job in jobs)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
        return [{"value": value, "count": count} for value, count in ranked]

    assert preview["count"] == len(jobs) == 13
    assert preview["byExceptionMessage"] == expected("exceptionMessage")
    assert preview["byTenantId"] == expected("tenantId")
    assert preview["byActivityId"] == expected("activityId") == [
        {"value": "call", "count": 6}, {"value": None, "count": 4}, {"value": "send", "count": 3}]
    # The activity "call" of two processes has two job definitions.
    assert len({job["jobDefinitionId"] for job in jobs if job["activityId"] == "call"}) == 2
    assert preview["byJobDefinitionId"] == expected("jobDefinitionId")


def test_preview_takes_more_explicit_ids_than_a_statement_takes_parameters(client, targets):
    """40,000 ids: more than SQLite's default limit of 32,766 bound variables per statement."""
    ids = targets(2, retries=3)
    absent = [f"absent-{index:05d}" for index in range(40_000)]
    response = client.post("/engine-rest/job/retries/preview", json={"retries": 1, "jobIds": absent + ids})
    assert response.status_code == 200
    preview = response.get_json()
    assert preview["count"] == 2 and preview["missingJobIds"] == absent
    assert sorted(preview["sampleJobIds"]) == sorted(ids)


def test_preview_of_an_empty_selection_is_count_0(client, targets):
    targets(2, retries=3)
    response = client.post("/engine-rest/job/retries/preview",
                           json={"retries": 1, "jobIds": ["gone"], "jobQuery": {"noRetriesLeft": True}})
    assert response.status_code == 200
    assert response.get_json() == {"count": 0, "missingJobIds": ["gone"], "byExceptionMessage": [],
                                   "byActivityId": [], "byJobDefinitionId": [], "byTenantId": [],
                                   "sampleJobIds": []}


@pytest.mark.parametrize("body, message", [
    ({}, "retries is null"),
    ({"retries": 1}, "You must specify at least one of jobIds or jobQuery."),
    ({"retries": -1, "jobQuery": {}}, "Retries count is not greater than or equal to 0"),
    ({"retries": 1, "jobQuery": {"timers": True, "messages": True}},
     "Parameter timers cannot be used together with parameter messages."),
    ({"retries": 1, "jobIds": ["a"], "dueDate": None, "dueDateSpreadSeconds": 60},
     "dueDateSpreadSeconds cannot be used together with dueDate"),
])
def test_preview_refuses_what_the_batch_refuses(client, targets, body, message):
    targets(1, retries=0)
    assert_400(client.post("/engine-rest/job/retries/preview", json=body), message)


# --- 10. the spread ----------------------------------------------------------------------------

@pytest.mark.parametrize("invocations, chunk", [(1000, 500), (3, 500), (1000, 4)])
def test_spread_due_dates_evenly_from_the_batch_creation(app, client, targets, batch_config, monkeypatch,
                                                         invocations, chunk):
    batch_config(INVOCATIONS_PER_BATCH_JOB=invocations, BATCH_JOBS_PER_SEED=2)
    monkeypatch.setattr("app.services.jobs.retries.DUE_DATE_CASE_CHUNK", chunk)  # 4: three UPDATEs a slice
    ids = sorted(targets(10, retries=0, dueDate="2020-01-01T00:00:00.000+0000"))
    other = targets(1, retries=0, dueDate="2020-01-01T00:00:00.000+0000")
    before = utcnow()
    response = client.post("/engine-rest/job/retries", json={"retries": 2, "jobIds": ids, "dueDateSpreadSeconds": 100})
    assert response.status_code == 200, response.get_json()
    after = utcnow()
    run_batches(app)
    rows = jobs_by_id(app, ids + other)
    assert {rows[job_id]["retries"] for job_id in ids} == {2}
    # Marked for the outcome, however many UPDATEs the slice took.
    assert {rows[job_id]["revived_by_batch_id"] for job_id in ids} == {response.get_json()["id"]}
    assert rows[other[0]]["retries"] == 0 and rows[other[0]]["due_date"] == datetime(2020, 1, 1)
    due = sorted(rows[job_id]["due_date"] for job_id in ids)
    assert before <= due[0] <= after  # element 0 is due at once
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(due, due[1:])]
    assert all(abs(gap - 10) < 0.01 for gap in gaps), gaps  # 100 s over 10 jobs
    assert (due[-1] - due[0]).total_seconds() == pytest.approx(90, abs=0.01)
    # Element order: ascending job id within a slice, slices in order (here: ascending job id).
    assert [rows[job_id]["due_date"] for job_id in ids] == due


@pytest.mark.parametrize("value, message", [
    (0, "dueDateSpreadSeconds must be between 1 and 2592000, got 0"),
    (2592001, "dueDateSpreadSeconds must be between 1 and 2592000, got 2592001"),
    ("soon", "dueDateSpreadSeconds must be an integer, got 'soon'"),
    (1.5, "dueDateSpreadSeconds must be an integer, got 1.5"),
])
def test_bad_spread_is_a_400(app, client, targets, value, message):
    ids = targets(1, retries=0)
    before = table_counts(app)
    assert_400(client.post("/engine-rest/job/retries", json={"retries": 1, "jobIds": ids,
                                                             "dueDateSpreadSeconds": value}), message)
    assert table_counts(app) == before


@pytest.mark.parametrize("due_date", [None, "2030-01-01T00:00:00.000+0000"])
def test_spread_with_due_date_is_a_400(app, client, targets, due_date):
    ids = targets(1, retries=0)
    before = table_counts(app)
    body = {"retries": 1, "jobIds": ids, "dueDate": due_date, "dueDateSpreadSeconds": 60}
    assert_400(client.post("/engine-rest/job/retries", json=body),
               "dueDateSpreadSeconds cannot be used together with dueDate")
    assert table_counts(app) == before


def test_null_spread_is_no_spread(app, client, targets):
    ids = targets(2, retries=0, dueDate="2020-01-01T00:00:00.000+0000")
    response = client.post("/engine-rest/job/retries", json={"retries": 1, "jobIds": ids, "dueDateSpreadSeconds": None})
    assert response.status_code == 200
    run_batches(app)
    assert {row["due_date"] for row in jobs_by_id(app, ids).values()} == {datetime(2020, 1, 1)}


# --- 4. POST /process-instance/job-retries -----------------------------------------------------

@pytest.fixture
def instances(targets):
    """Jobs of three process instances (two definitions, two tenants) and one job of none."""
    return {
        "pi-1": targets(2, retries=0, processInstanceId="pi-1", processDefinitionKey="invoice",
                        processDefinitionId="invoice:1", deploymentId="d1", tenantId="t1"),
        "pi-2": targets(1, retries=0, processInstanceId="pi-2", processDefinitionKey="invoice",
                        processDefinitionId="invoice:2", deploymentId="d2"),
        "pi-3": targets(1, retries=0, processInstanceId="pi-3", processDefinitionKey="order",
                        processDefinitionId="order:1", deploymentId="d1", tenantId="t2"),
        None: targets(1, retries=0),
    }


def retried(app, instances):
    """The process instances whose jobs now have retries (None: the job without one)."""
    rows = jobs_by_id(app, [job_id for ids in instances.values() for job_id in ids])
    return {instance for instance, ids in instances.items() if all(rows[job_id]["retries"] == 5 for job_id in ids)}


@pytest.mark.parametrize("body, expected", [
    ({"processInstances": ["pi-1", "pi-nope"]}, {"pi-1"}),
    ({"processInstanceQuery": {"processDefinitionKey": "invoice"}}, {"pi-1", "pi-2"}),
    ({"processInstanceQuery": {"processDefinitionKeyIn": ["order"]}, "processInstances": ["pi-2"]}, {"pi-2", "pi-3"}),
    ({"processInstanceQuery": {"processDefinitionKeyNotIn": ["invoice"]}}, {"pi-3"}),
    ({"processInstanceQuery": {"deploymentId": "d1"}}, {"pi-1", "pi-3"}),
    ({"processInstanceQuery": {"processDefinitionId": "invoice:2"}}, {"pi-2"}),
    ({"processInstanceQuery": {"tenantIdIn": ["t1", "t2"]}}, {"pi-1", "pi-3"}),
    ({"processInstanceQuery": {"withoutTenantId": True}}, {"pi-2"}),
    ({"processInstanceQuery": {"processInstanceIds": ["pi-3"], "sortBy": "instanceId", "sortOrder": "asc"}},
     {"pi-3"}),
    # An empty query matches every process instance, never a job without one; an empty list or
    # null is no filter.
    ({"processInstanceQuery": {}}, {"pi-1", "pi-2", "pi-3"}),
    ({"processInstanceQuery": {"processDefinitionKeyIn": [], "tenantIdIn": None, "withoutTenantId": False}},
     {"pi-1", "pi-2", "pi-3"}),
])
def test_retries_by_process_instance(app, client, instances, body, expected):
    response = client.post("/engine-rest/process-instance/job-retries", json={"retries": 5, **body})
    assert response.status_code == 200, response.get_json()
    batch = response.get_json()
    assert batch["type"] == "set-job-retries"  # Camunda's Batch.type for both endpoints
    expected_jobs = sum(len(instances[instance]) for instance in expected)
    assert client.get(f"/engine-rest/batch/{batch['id']}").get_json()["totalJobs"] == 1
    assert client.get(f"/engine-rest/batch/statistics?batchId={batch['id']}").status_code == 200
    run_batches(app)
    assert retried(app, instances) == expected
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["endTime"] is not None and history["elements"] == expected_jobs


def test_by_process_takes_due_date_and_spread(app, client, instances):
    response = client.post("/engine-rest/engine/default/process-instance/job-retries",
                           json={"retries": 5, "processInstances": ["pi-1"], "dueDate": "2031-02-03T04:05:06.007+0000"})
    assert response.status_code == 200
    run_batches(app)
    assert {row["due_date"] for row in jobs_by_id(app, instances["pi-1"]).values()} == {
        parse_date("2031-02-03T04:05:06.007+0000")}
    response = client.post("/engine-rest/process-instance/job-retries",
                           json={"retries": 5, "processInstances": ["pi-1"], "dueDateSpreadSeconds": 60})
    assert response.status_code == 200
    run_batches(app)
    due = sorted(row["due_date"] for row in jobs_by_id(app, instances["pi-1"]).values())
    assert (due[1] - due[0]) == timedelta(seconds=30) and due[0] <= utcnow()


@pytest.mark.parametrize("body, message", [
    (None, "setJobRetriesDto is null"),
    ({}, "retries is null"),
    ({"retries": None, "processInstances": ["pi-1"]}, "retries is null"),
    ({"retries": 1}, "You must specify at least one of or one of processInstanceIds, processInstanceQuery, or "
                     "historicProcessInstanceQuery."),
    ({"retries": 1, "processInstances": []}, "You must specify at least one of or one of processInstanceIds, "
                                             "processInstanceQuery, or historicProcessInstanceQuery."),
    # jobIds and jobQuery are not properties of this request (Camunda ignores them).
    ({"retries": 1, "jobIds": ["x"]}, "You must specify at least one of or one of processInstanceIds, "
                                      "processInstanceQuery, or historicProcessInstanceQuery."),
    ({"retries": 1, "processInstances": ["pi-nope"]}, "jobIds is empty"),
    ({"retries": 1, "processInstanceQuery": {"processDefinitionKey": "nope"}}, "jobIds is empty"),
    ({"retries": -1, "processInstances": ["pi-nope"]}, "jobIds is empty"),
    ({"retries": -1, "processInstances": ["pi-1"]}, "Retries count is not greater than or equal to 0"),
    ({"retries": 1, "processInstanceQuery": {"businessKey": "b-1"}},
     "processInstanceQuery.businessKey cannot be answered from the jobs: only processInstanceIds, "
     "processDefinitionId, processDefinitionKey, processDefinitionKeyIn, processDefinitionKeyNotIn, deploymentId, "
     "tenantIdIn, withoutTenantId are supported here"),
    ({"retries": 1, "processInstanceQuery": {"processDefinitionKey": 7}},
     "processInstanceQuery.processDefinitionKey must be a string"),
    ({"retries": 1, "processInstanceQuery": {"tenantIdIn": "t1"}},
     "processInstanceQuery.tenantIdIn must be an array of strings"),
    ({"retries": 1, "processInstanceQuery": ["x"]},
     'processInstanceQuery must be a JSON object, e.g. {"processDefinitionKey": "invoice"}'),
    ({"retries": 1, "processInstances": "pi-1"}, "processInstances must be an array of process instance id strings"),
    ({"retries": 1, "processInstances": ["pi-1"], "dueDate": "soon"},
     'Invalid due date format: Cannot convert value "soon" to java type java.util.Date'),
])
def test_by_process_refusals_write_nothing(app, client, instances, body, message):
    before = table_counts(app)
    response = (client.post("/engine-rest/process-instance/job-retries") if body is None
                else client.post("/engine-rest/process-instance/job-retries", json=body))
    assert_400(response, message)
    assert table_counts(app) == before


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_preview_scanned_in_ranges_of_pages_answers_as_one_scan(app, client, targets, monkeypatch, parts):
    """PostgreSQL scans a large selection in ranges of the table's pages side by side and sums
    their groups: the answer is the one scan's, on every count (SQLite answers as always)."""
    from sqlalchemy import text

    from app.services.batches import preview

    for index in range(300):
        targets(1, retries=0, exceptionMessage=f"error {index % 7}", activityId=f"activity {index % 30}",
                tenantId=None if index % 4 == 0 else f"t{index % 3}")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE job"))  # relpages, which the ranges are cut from
            db.session.commit()
            assert db.session.execute(text("SELECT relpages FROM pg_class WHERE oid = 'job'::regclass")
                                      ).scalar() >= parts
        db.session.remove()
    body = {"retries": 1, "jobQuery": {"noRetriesLeft": True}}
    monkeypatch.setattr(preview, "SPLIT_MIN_PAGES", 10**9)
    whole = client.post("/engine-rest/job/retries/preview", json=body).get_json()
    monkeypatch.setattr(preview, "SPLIT_MIN_PAGES", 0)
    monkeypatch.setattr(preview, "SCAN_PARTS", parts)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert len(preview._page_ranges()) == parts
        db.session.remove()
    split = client.post("/engine-rest/job/retries/preview", json=body).get_json()
    assert split["count"] == whole["count"] == 300
    for key in ("byExceptionMessage", "byActivityId", "byJobDefinitionId", "byTenantId"):
        assert split[key] == whole[key]
    assert {item["value"]: item["count"] for item in split["byExceptionMessage"]} == {
        f"error {n}": len([i for i in range(300) if i % 7 == n]) for n in range(7)}
    assert {item["value"]: item["count"] for item in split["byTenantId"]} == {"t0": 75, "t1": 75, "t2": 75, None: 75}
    assert len(split["byActivityId"]) == 20
