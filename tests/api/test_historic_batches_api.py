"""The historic batch resource (spec B.4.3, B.4.4, A11): list, count, single, delete, with every
filter, sort key, paging and 400. Historic rows are made through ``POST /job/retries`` (always
recorded) and ended by deleting the runtime batch or by writing ``end_time`` directly."""

import pytest
from sqlalchemy import update

from app.core.dates import parse_date
from app.extensions import db
from app.models import Batch, HistoricBatch
from tests.support import assert_400, count_of, get, ids_of

TARGET = "test.batch-target"
HISTORIC_KEYS = [
    "id", "type", "totalJobs", "batchJobsPerSeed", "invocationsPerBatchJob", "seedJobDefinitionId",
    "monitorJobDefinitionId", "batchJobDefinitionId", "tenantId", "createUserId", "startTime", "endTime",
    "removalTime", "executionStartTime",
    "elements", "skippedElements",  # our extension fields (A10)
]
BASES = ("/engine-rest", "/engine-rest/engine/default")


@pytest.fixture(autouse=True)
def one_invocation_per_job(app):
    saved = app.config["INVOCATIONS_PER_BATCH_JOB"], app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"]
    app.config["INVOCATIONS_PER_BATCH_JOB"], app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = 1, {}
    yield
    app.config["INVOCATIONS_PER_BATCH_JOB"], app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = saved


@pytest.fixture
def make_historic(app, client, make_jobs):
    """A batch's historic row; ``columns`` are written to it (and to the runtime row where shared)."""

    def create(size=1, **columns):
        ids = [job["id"] for job in make_jobs(*[{} for _ in range(size)], handlerType=TARGET)]
        response = client.post("/engine-rest/job/retries", json={"retries": 1, "jobIds": ids})
        assert response.status_code == 200, response.get_json()
        batch_id = response.get_json()["id"]
        if columns:
            runtime = {key: value for key, value in columns.items() if key in Batch.__table__.c}
            with app.app_context():
                db.session.execute(update(HistoricBatch.__table__)
                                   .where(HistoricBatch.__table__.c.id == batch_id).values(**columns))
                if runtime:
                    db.session.execute(update(Batch.__table__).where(Batch.__table__.c.id == batch_id)
                                       .values(**runtime))
                db.session.commit()
                db.session.remove()
        return client.get(f"/engine-rest/history/batch/{batch_id}").get_json()

    return create


ENDED = parse_date("2024-02-01T00:00:00.000+0000")


# --- GET /history/batch, /history/batch/count ---------------------------------------------------

@pytest.mark.parametrize("base", BASES)
def test_list_default_order_and_count(client, make_historic, base):
    created = [make_historic()["id"] for _ in range(3)]
    response = client.get(f"{base}/history/batch")
    assert ids_of(response) == sorted(created)
    assert all(list(item) == HISTORIC_KEYS for item in response.get_json())
    assert count_of(client.get(f"{base}/history/batch/count")) == 3


def test_empty(client):
    assert client.get("/engine-rest/history/batch").get_json() == []
    assert client.get("/engine-rest/history/batch/count").get_json() == {"count": 0}


def test_history_outlives_the_runtime_batch(client, make_historic):
    batch = make_historic(size=2)
    assert client.delete(f"/engine-rest/batch/{batch['id']}").status_code == 204
    listed = client.get("/engine-rest/history/batch").get_json()
    assert [item["id"] for item in listed] == [batch["id"]]
    assert listed[0]["endTime"] is not None and listed[0]["totalJobs"] == 2 and listed[0]["elements"] == 2


def test_filter_by_batch_id_and_type(client, make_historic):
    first, second = make_historic()["id"], make_historic()["id"]
    assert ids_of(get(client, "/history/batch", batchId=first)) == [first]
    assert count_of(get(client, "/history/batch/count", batchId=second)) == 1
    assert ids_of(get(client, "/history/batch", batchId="unknown")) == []
    assert ids_of(get(client, "/history/batch", type="set-job-retries")) == sorted([first, second])
    assert count_of(get(client, "/history/batch/count", type="instance-migration")) == 0


def test_filter_by_completed(client, make_historic):
    running = make_historic()["id"]
    ended = make_historic()["id"]
    client.delete(f"/engine-rest/batch/{ended}")
    for value in ("true", "True", "TRUE"):
        assert ids_of(get(client, "/history/batch", completed=value)) == [ended]
    for value in ("false", "False"):
        assert ids_of(get(client, "/history/batch", completed=value)) == [running]
    assert count_of(get(client, "/history/batch/count", completed="true")) == 1
    assert count_of(get(client, "/history/batch/count", completed="false")) == 1
    assert count_of(get(client, "/history/batch/count")) == 2


def test_filter_by_tenants(client, make_historic):
    a = make_historic(tenant_id="a")["id"]
    b = make_historic(tenant_id="b")["id"]
    none = make_historic()["id"]
    assert ids_of(get(client, "/history/batch", tenantIdIn="a,b")) == sorted([a, b])
    assert ids_of(client.get("/engine-rest/history/batch?tenantIdIn=a&tenantIdIn=b")) == sorted([a, b])
    assert ids_of(get(client, "/history/batch", withoutTenantId="true")) == [none]
    assert ids_of(get(client, "/history/batch", withoutTenantId="false")) == sorted([a, b, none])
    # HistoricBatchQueryDto also applies tenantIdIn after withoutTenantId: tenantIdIn wins.
    assert ids_of(get(client, "/history/batch", tenantIdIn="a", withoutTenantId="true")) == [a]
    assert count_of(get(client, "/history/batch/count", tenantIdIn="a,b", withoutTenantId="true")) == 2


@pytest.mark.parametrize("path", ["/history/batch", "/history/batch/count"])
@pytest.mark.parametrize("name", ["completed", "withoutTenantId"])
def test_bad_boolean(client, make_historic, path, name):
    make_historic()
    assert_400(get(client, path, **{name: "yes"}),
               f"Cannot set query parameter '{name}' to value 'yes': "
               "Cannot convert value yes to java type java.lang.Boolean")


def test_unknown_and_runtime_only_parameters_are_ignored(client, make_historic):
    created = make_historic()["id"]
    assert ids_of(get(client, "/history/batch", suspended="maybe", createdBy="x", unknown="1")) == [created]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_keys(client, make_historic, direction):
    first = make_historic(start_time=parse_date("2024-01-03T00:00:00.000+0000"), tenant_id="b",
                          end_time=parse_date("2024-02-01T00:00:00.000+0000"))["id"]
    second = make_historic(start_time=parse_date("2024-01-01T00:00:00.000+0000"), tenant_id="a",
                           end_time=parse_date("2024-02-03T00:00:00.000+0000"))["id"]
    third = make_historic(start_time=parse_date("2024-01-02T00:00:00.000+0000"))["id"]  # no tenant, running

    def ordered(key):
        return ids_of(get(client, "/history/batch", sortBy=key, sortOrder=direction))

    def expect(ascending):
        return ascending if direction == "asc" else ascending[::-1]

    assert ordered("batchId") == expect(sorted([first, second, third]))
    assert ordered("startTime") == expect([second, third, first])
    # NULLs last ascending, first descending (as for jobs).
    assert ordered("endTime") == expect([first, second, third])
    assert ordered("tenantId") == expect([second, first, third])


@pytest.mark.parametrize("path", ["/history/batch", "/history/batch/count"])
def test_sorting_errors(client, make_historic, path):
    make_historic()
    message = "Only a single sorting parameter specified. sortBy and sortOrder required"
    assert_400(get(client, path, sortBy="startTime"), message)
    assert_400(get(client, path, sortOrder="desc"), message)
    assert_400(get(client, path, sortBy="jobsCreated", sortOrder="asc"),
               "Cannot set query parameter 'sortBy' to value 'jobsCreated'")
    assert_400(get(client, path, sortBy="endTime", sortOrder="ascending"),
               "Cannot set query parameter 'sortOrder' to value 'ascending'")


def test_paging(client, make_historic):
    created = sorted(make_historic()["id"] for _ in range(5))
    assert ids_of(get(client, "/history/batch", firstResult=1, maxResults=2)) == created[1:3]
    assert ids_of(get(client, "/history/batch", firstResult=4)) == created[4:]
    assert ids_of(get(client, "/history/batch", maxResults=3)) == created[:3]
    assert ids_of(get(client, "/history/batch", maxResults=0)) == []
    assert ids_of(get(client, "/history/batch", firstResult=0, maxResults=2, sortBy="batchId",
                      sortOrder="desc")) == created[::-1][:2]
    assert_400(get(client, "/history/batch", firstResult="x"),
               "Cannot set query parameter 'firstResult' to value 'x': "
               "Cannot convert value x to java type java.lang.Integer")
    assert_400(get(client, "/history/batch", maxResults="-2"),
               "Cannot set query parameter 'maxResults' to value '-2': must not be negative")


# --- GET /history/batch/{id} ------------------------------------------------------------------

@pytest.mark.parametrize("base", BASES)
def test_get_single(client, make_historic, base):
    batch = make_historic(size=3, create_user_id="demo", removal_time=ENDED, end_time=ENDED)
    got = client.get(f"{base}/history/batch/{batch['id']}").get_json()
    assert list(got) == HISTORIC_KEYS
    runtime = client.get(f"/engine-rest/batch/{batch['id']}").get_json()
    for key in ("type", "totalJobs", "batchJobsPerSeed", "invocationsPerBatchJob", "seedJobDefinitionId",
                "monitorJobDefinitionId", "batchJobDefinitionId", "tenantId", "createUserId", "startTime",
                "executionStartTime"):
        assert got[key] == runtime[key], key
    assert got["type"] == "set-job-retries" and got["createUserId"] == "demo"
    assert got["endTime"] == "2024-02-01T00:00:00.000+0000" and got["removalTime"] == got["endTime"]
    assert got["elements"] == 3 and got["skippedElements"] == 0


@pytest.mark.parametrize("base", BASES)
def test_get_unknown_is_404(client, base):
    response = client.get(f"{base}/history/batch/nonExistingId")
    assert response.status_code == 404
    assert response.get_json() == {"type": "InvalidRequestException",
                                   "message": "Historic batch with id 'nonExistingId' does not exist", "code": None}


# --- DELETE /history/batch/{id} ---------------------------------------------------------------

@pytest.mark.parametrize("base", BASES)
def test_delete(client, make_historic, base):
    batch = make_historic()
    other = make_historic()
    response = client.delete(f"{base}/history/batch/{batch['id']}")
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"{base}/history/batch/{batch['id']}").status_code == 404
    assert ids_of(client.get(f"{base}/history/batch")) == [other["id"]]
    # Deleting the history of a running batch leaves the runtime batch alone (B.5.8).
    assert client.get(f"{base}/batch/{batch['id']}").status_code == 200
    # A second delete: the historic batch is gone.
    assert_400(client.delete(f"{base}/history/batch/{batch['id']}"),
               f"Unable to delete historic batch with id '{batch['id']}'", code=0)


@pytest.mark.parametrize("base", BASES)
def test_delete_unknown(client, base):
    assert_400(client.delete(f"{base}/history/batch/nonExistingId"),
               "Unable to delete historic batch with id 'nonExistingId'", code=0)


def test_runtime_batch_deleted_after_its_history_was_deleted(client, make_historic):
    batch = make_historic()
    assert client.delete(f"/engine-rest/history/batch/{batch['id']}").status_code == 204
    assert client.delete(f"/engine-rest/batch/{batch['id']}").status_code == 204
    assert client.get("/engine-rest/history/batch/count").get_json() == {"count": 0}


@pytest.mark.parametrize("query", [
    "tenantIdIn=%00", "batchId=a%00", "type=%F0%9F%92%A5", "tenantIdIn=,", "completed=", "sortBy=&sortOrder=",
    "firstResult=", "maxResults=99999999999",
])
def test_odd_input_never_500(client, make_historic, query):
    make_historic()
    for path in ("/history/batch", "/history/batch/count"):
        response = client.get(f"/engine-rest{path}?{query}")
        assert response.status_code in (200, 400), response.get_json()
    for batch_id in ("a%00b", "x" * 300):
        assert client.get(f"/engine-rest/history/batch/{batch_id}").status_code == 404
        assert client.delete(f"/engine-rest/history/batch/{batch_id}").status_code == 400
