"""The batch resource (spec B.4.1, B.4.2, B.4.4): list, count, single batch, statistics,
suspension and deletion, with every filter, sort key, paging and 400. No worker runs here:
batches are made through ``POST /job/retries`` and adjusted in the database where a test needs
values the API cannot produce (tenants, creators, start times, progress)."""

import pytest
from sqlalchemy import func, select, update

from app.core.dates import parse_date
from app.extensions import db
from app.models import Batch, BatchSlice, HistoricBatch, Job, JobDefinition
from tests.support import assert_400, count_of, get, ids_of

TARGET = "test.batch-target"
BATCH_DTO_KEYS = [
    "id", "type", "totalJobs", "jobsCreated", "batchJobsPerSeed", "invocationsPerBatchJob",
    "seedJobDefinitionId", "monitorJobDefinitionId", "batchJobDefinitionId", "suspended", "tenantId",
    "createUserId", "startTime", "executionStartTime",
]
STATISTICS_KEYS = BATCH_DTO_KEYS + ["remainingJobs", "completedJobs", "failedJobs", "skippedElements"]
BASES = ("/engine-rest", "/engine-rest/engine/default")


@pytest.fixture(autouse=True)
def one_invocation_per_job(app):
    saved = app.config["INVOCATIONS_PER_BATCH_JOB"], app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"]
    app.config["INVOCATIONS_PER_BATCH_JOB"], app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = 1, {}
    yield
    app.config["INVOCATIONS_PER_BATCH_JOB"], app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = saved


@pytest.fixture
def make_batch(app, client, make_jobs):
    """A set-job-retries batch over ``size`` new target jobs; ``columns`` are then written to
    the runtime row (and the shared ones to the historic row)."""

    def create(size=1, **columns):
        ids = [job["id"] for job in make_jobs(*[{} for _ in range(size)], handlerType=TARGET)]
        response = client.post("/engine-rest/job/retries", json={"retries": 1, "jobIds": ids})
        assert response.status_code == 200, response.get_json()
        batch = response.get_json()
        if columns:
            set_columns(app, batch["id"], **columns)
        return batch

    return create


def set_columns(app, batch_id, **columns):
    historic_columns = {key: value for key, value in columns.items() if key in HistoricBatch.__table__.c}
    with app.app_context():
        db.session.execute(update(Batch.__table__).where(Batch.__table__.c.id == batch_id).values(**columns))
        if historic_columns:
            db.session.execute(update(HistoricBatch.__table__).where(HistoricBatch.__table__.c.id == batch_id)
                               .values(**historic_columns))
        db.session.commit()
        db.session.remove()


# --- GET /batch, /batch/count -----------------------------------------------------------

@pytest.mark.parametrize("base", BASES)
def test_list_default_order_is_id_asc(client, make_batch, base):
    created = [make_batch()["id"] for _ in range(4)]
    response = client.get(f"{base}/batch")
    assert ids_of(response) == sorted(created)
    assert all(list(item) == BATCH_DTO_KEYS for item in response.get_json())
    assert count_of(client.get(f"{base}/batch/count")) == 4


def test_empty_list_and_count(client):
    assert client.get("/engine-rest/batch").get_json() == []
    assert client.get("/engine-rest/batch/count").get_json() == {"count": 0}


def test_filter_by_batch_id_and_type(client, make_batch):
    first, second = make_batch(), make_batch()
    assert ids_of(get(client, "/batch", batchId=first["id"])) == [first["id"]]
    assert count_of(get(client, "/batch/count", batchId=second["id"])) == 1
    assert ids_of(get(client, "/batch", batchId="unknown")) == []
    assert ids_of(get(client, "/batch", batchId="")) == []
    assert ids_of(get(client, "/batch", type="set-job-retries")) == sorted([first["id"], second["id"]])
    assert count_of(get(client, "/batch/count", type="instance-migration")) == 0


def test_filter_by_tenants(client, make_batch):
    a = make_batch(tenant_id="a")["id"]
    b = make_batch(tenant_id="b")["id"]
    c = make_batch(tenant_id="c")["id"]
    none = make_batch()["id"]
    assert ids_of(get(client, "/batch", tenantIdIn="a,b")) == sorted([a, b])
    assert ids_of(client.get("/engine-rest/batch?tenantIdIn=a&tenantIdIn=c")) == sorted([a, c])
    assert ids_of(get(client, "/batch", tenantIdIn="")) == sorted([a, b, c, none])
    assert ids_of(get(client, "/batch", withoutTenantId="true")) == [none]
    assert ids_of(get(client, "/batch", withoutTenantId="TRUE")) == [none]
    assert ids_of(get(client, "/batch", withoutTenantId="false")) == sorted([a, b, c, none])
    # For batches a given tenantIdIn overrides withoutTenantId (the reverse of the job query).
    assert ids_of(get(client, "/batch", tenantIdIn="b", withoutTenantId="true")) == [b]
    assert count_of(get(client, "/batch/count", tenantIdIn="b", withoutTenantId="true")) == 1
    assert count_of(get(client, "/batch/count", tenantIdIn="a,b,c")) == 3


def test_filter_by_suspension(client, make_batch):
    active = make_batch()["id"]
    suspended = make_batch()["id"]
    assert client.put(f"/engine-rest/batch/{suspended}/suspended", json={"suspended": True}).status_code == 204
    assert ids_of(get(client, "/batch", suspended="true")) == [suspended]
    assert ids_of(get(client, "/batch", suspended="True")) == [suspended]
    assert ids_of(get(client, "/batch", suspended="false")) == [active]
    assert ids_of(get(client, "/batch", suspended="FALSE")) == [active]
    assert count_of(get(client, "/batch/count", suspended="true")) == 1
    assert count_of(get(client, "/batch/count")) == 2


@pytest.mark.parametrize("path", ["/batch", "/batch/count", "/batch/statistics", "/batch/statistics/count"])
@pytest.mark.parametrize("name", ["suspended", "withoutTenantId"])
def test_bad_boolean(client, make_batch, path, name):
    make_batch()
    assert_400(get(client, path, **{name: "maybe"}),
               f"Cannot set query parameter '{name}' to value 'maybe': "
               "Cannot convert value maybe to java type java.lang.Boolean")


def test_statistics_only_parameters_are_ignored_on_batch(client, make_batch):
    created = make_batch(create_user_id="demo")["id"]
    params = dict(createdBy="someone-else", startedBefore="not a date", startedAfter="2999-01-01T00:00:00.000+0000",
                  withFailures="garbage", withoutFailures="true", unknown="x")
    assert ids_of(get(client, "/batch", **params)) == [created]
    assert count_of(get(client, "/batch/count", **params)) == 1


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_batch_id(client, make_batch, direction):
    created = sorted(make_batch()["id"] for _ in range(3))
    expected = created if direction == "asc" else created[::-1]
    assert ids_of(get(client, "/batch", sortBy="batchId", sortOrder=direction)) == expected


@pytest.mark.parametrize("path", ["/batch", "/batch/statistics"])
def test_sort_by_tenant_id(client, make_batch, path):
    b = make_batch(tenant_id="b")["id"]
    a = make_batch(tenant_id="a")["id"]
    none = make_batch()["id"]
    # NULLs last ascending, first descending, on every database (as for jobs).
    assert ids_of(get(client, path, sortBy="tenantId", sortOrder="asc")) == [a, b, none]
    assert ids_of(get(client, path, sortBy="tenantId", sortOrder="desc")) == [none, b, a]


@pytest.mark.parametrize("path, valid", [
    ("/batch", "batchId, tenantId"),
    ("/batch/count", "batchId, tenantId"),
    ("/batch/statistics", "batchId, tenantId, startTime"),
    ("/batch/statistics/count", "batchId, tenantId, startTime"),
])
def test_sorting_errors(client, make_batch, path, valid):
    make_batch()
    message = "Only a single sorting parameter specified. sortBy and sortOrder required"
    assert_400(get(client, path, sortBy="batchId"), message)
    assert_400(get(client, path, sortOrder="asc"), message)
    assert_400(get(client, path, sortBy="jobId", sortOrder="asc"),
               "Cannot set query parameter 'sortBy' to value 'jobId'")
    assert_400(get(client, path, sortBy="batchId", sortOrder="up"),
               "Cannot set query parameter 'sortOrder' to value 'up'")


def test_start_time_is_no_sort_key_of_batch(client, make_batch):
    make_batch()
    assert_400(get(client, "/batch", sortBy="startTime", sortOrder="asc"),
               "Cannot set query parameter 'sortBy' to value 'startTime'")


@pytest.mark.parametrize("path", ["/batch", "/batch/statistics"])
def test_paging(client, make_batch, path):
    created = sorted(make_batch()["id"] for _ in range(5))
    assert ids_of(get(client, path, firstResult=1, maxResults=2)) == created[1:3]
    assert ids_of(get(client, path, firstResult=3)) == created[3:]
    assert ids_of(get(client, path, maxResults=2)) == created[:2]
    assert ids_of(get(client, path, maxResults=0)) == []
    assert ids_of(get(client, path, firstResult=10)) == []
    assert ids_of(get(client, path, firstResult=1, maxResults=2, sortBy="batchId", sortOrder="desc")) == \
        created[::-1][1:3]


@pytest.mark.parametrize("path", ["/batch", "/batch/statistics"])
@pytest.mark.parametrize("name, value, message", [
    ("firstResult", "abc", "Cannot set query parameter 'firstResult' to value 'abc': "
                           "Cannot convert value abc to java type java.lang.Integer"),
    ("maxResults", "1.5", "Cannot set query parameter 'maxResults' to value '1.5': "
                          "Cannot convert value 1.5 to java type java.lang.Integer"),
    ("maxResults", "-1", "Cannot set query parameter 'maxResults' to value '-1': must not be negative"),
    ("firstResult", "99999999999", "Cannot set query parameter 'firstResult' to value '99999999999': "
                                   "Cannot convert value 99999999999 to java type java.lang.Integer"),
])
def test_paging_errors(client, make_batch, path, name, value, message):
    make_batch()
    assert_400(get(client, path, **{name: value}), message)


def test_query_max_results_limit(app, client, make_batch):
    for _ in range(3):
        make_batch()
    app.config["QUERY_MAX_RESULTS_LIMIT"], saved = 2, app.config["QUERY_MAX_RESULTS_LIMIT"]
    try:
        for path in ("/batch", "/batch/statistics"):
            response = get(client, path)
            assert response.status_code == 400
            assert response.get_json()["message"] == "Max results limit of 2 exceeded!"
            assert len(get(client, path, maxResults=2).get_json()) == 2
            assert get(client, path, maxResults=3).status_code == 400
        assert count_of(get(client, "/batch/count")) == 3
    finally:
        app.config["QUERY_MAX_RESULTS_LIMIT"] = saved


# --- GET /batch/{id} ----------------------------------------------------------------------

@pytest.mark.parametrize("base", BASES)
def test_get_single_batch(client, make_batch, base):
    batch = make_batch(tenant_id="t1", create_user_id="demo")
    got = client.get(f"{base}/batch/{batch['id']}").get_json()
    assert list(got) == BATCH_DTO_KEYS
    assert got == {**batch, "tenantId": "t1", "createUserId": "demo"}


@pytest.mark.parametrize("base", BASES)
def test_get_unknown_batch_is_404(client, base):
    response = client.get(f"{base}/batch/nonExistingId")
    assert response.status_code == 404
    assert response.get_json() == {"type": "InvalidRequestException",
                                   "message": "Batch with id 'nonExistingId' does not exist", "code": None}


# --- PUT /batch/{id}/suspended --------------------------------------------------------------

def job_definitions_suspended(app, batch):
    with app.app_context():
        c = JobDefinition.__table__.c
        rows = db.session.execute(select(c.suspended).where(c.id.in_([
            batch["seedJobDefinitionId"], batch["monitorJobDefinitionId"], batch["batchJobDefinitionId"]]))
        ).scalars().all()
        jobs = db.session.execute(select(Job.suspended).where(Job.batch_id == batch["id"])).scalars().all()
        db.session.remove()
    return rows, jobs


def test_suspend_and_activate(app, client, make_batch):
    batch = make_batch()
    url = f"/engine-rest/batch/{batch['id']}/suspended"
    response = client.put(url, json={"suspended": True})
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"/engine-rest/batch/{batch['id']}").get_json()["suspended"] is True
    definitions, jobs = job_definitions_suspended(app, batch)
    assert definitions == [True, True, True] and jobs == [True]
    assert client.put(url, json={"suspended": True}).status_code == 204  # idempotent
    assert client.put(url, json={"suspended": False}).status_code == 204
    assert client.get(f"/engine-rest/batch/{batch['id']}").get_json()["suspended"] is False
    definitions, jobs = job_definitions_suspended(app, batch)
    assert definitions == [False, False, False] and jobs == [False]


@pytest.mark.parametrize("body, expected", [
    ({}, False),
    ({"suspended": None}, False),
    ({"suspended": True, "unknown": 1}, True),
    ({"suspended": "true"}, True),
    ({"suspended": "FALSE"}, False),
])
def test_suspension_body_variants(client, make_batch, body, expected):
    batch = make_batch()
    if not expected:
        client.put(f"/engine-rest/batch/{batch['id']}/suspended", json={"suspended": True})
    assert client.put(f"/engine-rest/batch/{batch['id']}/suspended", json=body).status_code == 204
    assert client.get(f"/engine-rest/batch/{batch['id']}").get_json()["suspended"] is expected


@pytest.mark.parametrize("body", [{"suspended": "yes"}, {"suspended": 1}, [True], "true"])
def test_suspension_bad_body(client, make_batch, body):
    batch = make_batch()
    response = client.put(f"/engine-rest/batch/{batch['id']}/suspended", json=body)
    assert response.status_code == 400 and response.get_json()["type"] == "InvalidRequestException"
    assert client.get(f"/engine-rest/batch/{batch['id']}").get_json()["suspended"] is False


def test_suspension_empty_or_malformed_body(client, make_batch):
    batch = make_batch()
    for data in ("", "{"):
        response = client.put(f"/engine-rest/batch/{batch['id']}/suspended", data=data,
                              content_type="application/json")
        assert response.status_code == 400 and response.get_json()["type"] == "InvalidRequestException"


@pytest.mark.parametrize("base", BASES)
def test_suspend_or_activate_unknown_batch(client, base):
    assert_400(client.put(f"{base}/batch/nonExistingId/suspended", json={"suspended": True}),
               "Unable to suspend batch with id 'nonExistingId'", code=0)
    assert_400(client.put(f"{base}/batch/nonExistingId/suspended", json={"suspended": False}),
               "Unable to activate batch with id 'nonExistingId'", code=0)
    assert_400(client.put(f"{base}/batch/nonExistingId/suspended", json={}),
               "Unable to activate batch with id 'nonExistingId'", code=0)


# --- DELETE /batch/{id} ---------------------------------------------------------------------

def leftovers(app, batch):
    definitions = [batch["seedJobDefinitionId"], batch["monitorJobDefinitionId"], batch["batchJobDefinitionId"]]
    with app.app_context():
        counts = (
            db.session.execute(select(func.count()).select_from(Job).where(Job.job_definition_id.in_(definitions)))
            .scalar_one(),
            db.session.execute(select(func.count()).select_from(JobDefinition)
                               .where(JobDefinition.id.in_(definitions))).scalar_one(),
            db.session.execute(select(func.count()).select_from(BatchSlice)
                               .where(BatchSlice.batch_id == batch["id"])).scalar_one(),
        )
        db.session.remove()
    return counts


@pytest.mark.parametrize("query, history_kept", [("", True), ("?cascade=false", True), ("?cascade=False", True),
                                                 ("?cascade=true", False), ("?cascade=TRUE", False)])
def test_delete_batch(app, client, make_batch, query, history_kept):
    batch = make_batch(size=3)
    other = make_batch()
    assert leftovers(app, batch) == (1, 3, 3)
    response = client.delete(f"/engine-rest/batch/{batch['id']}{query}")
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    assert leftovers(app, batch) == (0, 0, 0)
    history = client.get(f"/engine-rest/history/batch/{batch['id']}")
    if history_kept:
        assert history.status_code == 200 and history.get_json()["endTime"] is not None
    else:
        assert history.status_code == 404
    # The other batch is untouched.
    assert ids_of(client.get("/engine-rest/batch")) == [other["id"]]
    assert leftovers(app, other) == (1, 3, 1)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("query", ["", "?cascade=true", "?cascade=false"])
def test_delete_unknown_batch(client, base, query):
    assert_400(client.delete(f"{base}/batch/nonExistingId{query}"),
               "Unable to delete batch with id 'nonExistingId'", code=0)


def test_delete_with_bad_cascade(client, make_batch):
    batch = make_batch()
    assert_400(client.delete(f"/engine-rest/batch/{batch['id']}?cascade=maybe"),
               "Cannot set query parameter 'cascade' to value 'maybe': "
               "Cannot convert value maybe to java type java.lang.Boolean")
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 200


# --- GET /batch/statistics, /batch/statistics/count -------------------------------------------

def add_execution_jobs(make_jobs, batch, retries):
    """Execution jobs as a seed run would have left them (by the batch's job definition)."""
    items = [{"retries": value} for value in retries]
    if not items:
        return []
    return make_jobs(*items, handlerType=TARGET, jobDefinitionId=batch["batchJobDefinitionId"])


@pytest.mark.parametrize("base", BASES)
def test_statistics_right_after_creation(client, make_batch, base):
    batch = make_batch(size=3)
    stats = client.get(f"{base}/batch/statistics").get_json()
    assert len(stats) == 1 and list(stats[0]) == STATISTICS_KEYS
    assert {key: stats[0][key] for key in BATCH_DTO_KEYS} == batch
    assert (stats[0]["remainingJobs"], stats[0]["completedJobs"], stats[0]["failedJobs"],
            stats[0]["skippedElements"]) == (3, 0, 0, 0)
    assert count_of(client.get(f"{base}/batch/statistics/count")) == 1


@pytest.mark.parametrize("total, created, retries, skipped, expected", [
    # (remainingJobs, completedJobs, failedJobs) as Camunda's BatchStatisticsQueryTest has them
    (3, 0, [], 0, (3, 0, 0)),
    (13, 10, [3] * 10, 0, (13, 0, 0)),
    (3, 3, [0, 3], 0, (2, 1, 1)),
    (13, 10, [0, 0, 3, 3, 3, 3, 3, 3], 0, (11, 2, 2)),
    (3, 3, [], 2, (0, 3, 0)),  # every execution job gone (deleted ones count as completed)
    (5, 5, [0, 0, 0], 1, (3, 2, 3)),
])
def test_statistics_formulas(client, make_jobs, make_batch, total, created, retries, skipped, expected):
    batch = make_batch(size=total, jobs_created=created, skipped_elements=skipped)
    add_execution_jobs(make_jobs, batch, retries)
    stats = get(client, "/batch/statistics", batchId=batch["id"]).get_json()[0]
    assert (stats["totalJobs"], stats["jobsCreated"]) == (total, created)
    assert (stats["remainingJobs"], stats["completedJobs"], stats["failedJobs"]) == expected
    assert stats["skippedElements"] == skipped


def test_statistics_of_several_batches(client, make_jobs, make_batch):
    first = make_batch(size=2, jobs_created=2)
    second = make_batch(size=4, jobs_created=1)
    add_execution_jobs(make_jobs, first, [0])
    add_execution_jobs(make_jobs, second, [1])
    stats = {item["id"]: item for item in client.get("/engine-rest/batch/statistics").get_json()}
    assert (stats[first["id"]]["remainingJobs"], stats[first["id"]]["completedJobs"],
            stats[first["id"]]["failedJobs"]) == (1, 1, 1)
    assert (stats[second["id"]]["remainingJobs"], stats[second["id"]]["completedJobs"],
            stats[second["id"]]["failedJobs"]) == (4, 0, 0)


def test_statistics_filters_of_batch(client, make_batch):
    a = make_batch(tenant_id="a")["id"]
    b = make_batch(tenant_id="b")["id"]
    none = make_batch()["id"]
    client.put(f"/engine-rest/batch/{b}/suspended", json={"suspended": True})
    assert ids_of(get(client, "/batch/statistics", batchId=a)) == [a]
    assert ids_of(get(client, "/batch/statistics", type="set-job-retries")) == sorted([a, b, none])
    assert ids_of(get(client, "/batch/statistics", type="other")) == []
    assert ids_of(get(client, "/batch/statistics", tenantIdIn="a,b")) == sorted([a, b])
    assert ids_of(get(client, "/batch/statistics", withoutTenantId="true")) == [none]
    assert ids_of(get(client, "/batch/statistics", tenantIdIn="a", withoutTenantId="true")) == [a]
    assert ids_of(get(client, "/batch/statistics", suspended="true")) == [b]
    assert ids_of(get(client, "/batch/statistics", suspended="false")) == sorted([a, none])
    assert count_of(get(client, "/batch/statistics/count", suspended="false", tenantIdIn="a,b")) == 1


def test_statistics_created_by(client, make_batch):
    mine = make_batch(create_user_id="demo")["id"]
    make_batch(create_user_id="other")
    make_batch()
    assert ids_of(get(client, "/batch/statistics", createdBy="demo")) == [mine]
    assert count_of(get(client, "/batch/statistics/count", createdBy="demo")) == 1
    assert count_of(get(client, "/batch/statistics/count", createdBy="nobody")) == 0


def test_statistics_started_before_and_after_are_inclusive(client, make_batch):
    early = make_batch(start_time=parse_date("2024-01-01T10:00:00.000+0000"))["id"]
    middle = make_batch(start_time=parse_date("2024-01-02T10:00:00.000+0000"))["id"]
    late = make_batch(start_time=parse_date("2024-01-03T10:00:00.000+0000"))["id"]
    stamp = "2024-01-02T10:00:00.000+0000"
    assert ids_of(get(client, "/batch/statistics", startedBefore=stamp)) == sorted([early, middle])
    assert ids_of(get(client, "/batch/statistics", startedAfter=stamp)) == sorted([middle, late])
    assert ids_of(get(client, "/batch/statistics", startedAfter=stamp, startedBefore=stamp)) == [middle]
    # ISO 8601 variants (A5) and another zone: 11:00+01:00 is 10:00 UTC.
    assert ids_of(get(client, "/batch/statistics", startedBefore="2024-01-02T11:00:00+01:00")) == \
        sorted([early, middle])
    assert count_of(get(client, "/batch/statistics/count", startedAfter="2024-01-02T10:00:00.001Z")) == 1


@pytest.mark.parametrize("name", ["startedBefore", "startedAfter"])
@pytest.mark.parametrize("value", ["yesterday", "2024-13-01T00:00:00.000+0000", "2024-01-01T00:00:00.000 0000"])
def test_statistics_bad_dates(client, make_batch, name, value):
    make_batch()
    for path in ("/batch/statistics", "/batch/statistics/count"):
        assert_400(get(client, path, **{name: value}),
                   f"Cannot set query parameter '{name}' to value '{value}': "
                   f"Cannot convert value {value} to java type java.util.Date")


def test_statistics_with_and_without_failures(client, make_jobs, make_batch):
    failing = make_batch(size=2, jobs_created=2)
    healthy = make_batch(size=2, jobs_created=2)
    untouched = make_batch()
    add_execution_jobs(make_jobs, failing, [0, 3])
    add_execution_jobs(make_jobs, healthy, [3])
    assert ids_of(get(client, "/batch/statistics", withFailures="true")) == [failing["id"]]
    assert ids_of(get(client, "/batch/statistics", withoutFailures="true")) == \
        sorted([healthy["id"], untouched["id"]])
    # Both given: withoutFailures is applied last and wins.
    assert ids_of(get(client, "/batch/statistics", withFailures="true", withoutFailures="true")) == \
        sorted([healthy["id"], untouched["id"]])
    # false is no filter (true-only flags).
    assert len(ids_of(get(client, "/batch/statistics", withFailures="false"))) == 3
    assert len(ids_of(get(client, "/batch/statistics", withoutFailures="False"))) == 3
    assert count_of(get(client, "/batch/statistics/count", withFailures="True")) == 1
    assert count_of(get(client, "/batch/statistics/count", withoutFailures="true")) == 2
    assert_400(get(client, "/batch/statistics", withFailures="yes"),
               "Cannot set query parameter 'withFailures' to value 'yes': "
               "Cannot convert value yes to java type java.lang.Boolean")


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_statistics_sort_keys(client, make_batch, direction):
    created = [make_batch(start_time=parse_date(f"2024-01-0{day}T00:00:00.000+0000"))["id"] for day in (3, 1, 2)]
    by_start = [created[1], created[2], created[0]]
    expected = by_start if direction == "asc" else by_start[::-1]
    assert ids_of(get(client, "/batch/statistics", sortBy="startTime", sortOrder=direction)) == expected
    by_id = sorted(created) if direction == "asc" else sorted(created, reverse=True)
    assert ids_of(get(client, "/batch/statistics", sortBy="batchId", sortOrder=direction)) == by_id
    assert ids_of(get(client, "/batch/statistics")) == sorted(created)


@pytest.mark.parametrize("path", ["/batch", "/batch/count", "/batch/statistics", "/batch/statistics/count"])
@pytest.mark.parametrize("query", [
    "tenantIdIn=%00", "batchId=%F0%9F%92%A5", "type=" + "x" * 5000, "firstResult=", "maxResults=",
    "sortBy=&sortOrder=", "tenantIdIn=,,,", "startedBefore=%2B",
])
def test_odd_input_never_500(client, make_batch, path, query):
    make_batch()
    response = client.get(f"/engine-rest{path}?{query}")
    assert response.status_code in (200, 400), response.get_json()


def test_odd_ids_in_the_path(client, make_batch):
    make_batch()
    for batch_id in ("a%00b", "%F0%9F%92%A5", "x" * 300):
        assert client.get(f"/engine-rest/batch/{batch_id}").status_code == 404
        assert client.put(f"/engine-rest/batch/{batch_id}/suspended", json={"suspended": True}).status_code == 400
        assert client.delete(f"/engine-rest/batch/{batch_id}").status_code == 400
    assert count_of(client.get("/engine-rest/batch/count")) == 1


def test_a_batch_id_no_database_can_store_is_an_unknown_batch(client):
    """The batch services answer such an id as "not found" themselves (never a 500 from SQL)."""
    bad = "a\u0000b"
    assert client.get(f"/engine-rest/batch/{bad}").status_code == 404
    assert_400(client.put(f"/engine-rest/batch/{bad}/suspended", json={"suspended": True}),
               f"Unable to suspend batch with id '{bad}'", code=0)
    assert_400(client.delete(f"/engine-rest/batch/{bad}"), f"Unable to delete batch with id '{bad}'", code=0)
    assert client.get(f"/engine-rest/history/batch/{bad}").status_code == 404
    assert_400(client.delete(f"/engine-rest/history/batch/{bad}"),
               f"Unable to delete historic batch with id '{bad}'", code=0)
