"""Batches belong to their creator (issue 10 point 6; C.7, C.8, A16), over HTTP with real users:
creating a set-retries batch needs CREATE or CREATE_BATCH_SET_JOB_RETRIES; its selection is
resolved within what the creator may update; explicit ids it may not update are refused before
anything is written; the execution jobs (run without a user) change nothing outside the
selection; reading, suspending, deleting batches and their history follow READ, UPDATE, DELETE,
READ_HISTORY and DELETE_HISTORY; createUserId and ``createdBy`` name the creator.

Uses the world of test_job_authorization: opa (tenant ta; invoice instances; CREATE_BATCH_SET_JOB_RETRIES,
READ and READ_HISTORY on batches), opb (tenant tb; ALL on everything), plain (nothing).
"""

import pytest
from sqlalchemy import func, select

from app.core.names import BATCH_TYPE_SET_JOB_RETRIES, HANDLER_BATCH_MONITOR, HANDLER_BATCH_SEED
from app.extensions import db
from app.models.tables import batch_slice_table, batch_table, historic_batch_table, job_table
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job
from tests.security.conftest import OPA, OPB, PLAIN, WRONG, call, data_state, missing

BATCH_HANDLERS = [HANDLER_BATCH_SEED, BATCH_TYPE_SET_JOB_RETRIES, HANDLER_BATCH_MONITOR]


def run_batches(app):
    """Run the batch jobs (seed, execution, monitor) as the executor does: without a user."""
    with app.app_context():
        for _ in range(50):
            acquired = acquire_jobs(limit=100, handler_types=BATCH_HANDLERS)
            if not acquired:
                break
            for job_id, token, revision in acquired:
                execute_job(job_id, token, revision)
        db.session.remove()


def retries(app):
    with app.app_context():
        rows = dict(db.session.execute(select(job_table.c.id, job_table.c.retries)
                                       .where(job_table.c.batch_id.is_(None))).all())
        db.session.remove()
    return rows


def batch_state(app):
    with app.app_context():
        state = {table.name: sorted(tuple(str(value) for value in row)
                                    for row in db.session.execute(table.select()).all())
                 for table in (batch_table, historic_batch_table, batch_slice_table)}
        db.session.remove()
    return state


def count_rows(app, table):
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(table)).scalar_one()
        db.session.remove()
    return count


def create(client, headers, expect=200, **body):
    response = call(client, "POST", "/job/retries", headers, body)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


# --- creation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, body, status, message", [
    (None, {"retries": 5, "jobIds": ["shared"]}, 401, None),
    (WRONG, {"retries": 5, "jobIds": ["shared"]}, 401, None),
    (PLAIN, {"retries": 5, "jobIds": ["shared"]}, 403,
     "The user with id 'plain' does not have one of the following permissions: 'CREATE_BATCH_SET_JOB_RETRIES' "
     "permission on resource 'Batch' or 'CREATE' permission on resource 'Batch'"),
    # opa may create batches, but not set retries of a shipping job it can see (no tenant).
    (OPA, {"retries": 5, "jobIds": ["a", "other"]}, 403, missing("opa", "retry", "pi-4", "shipping")),
    (OPA, {"retries": 5, "jobIds": ["standalone", "a"]}, 403, missing("opa", "retry", None, None)),
    (OPA, {"retries": 5, "jobQuery": {"processDefinitionKey": "shipping"}}, 400, "jobIds is empty"),
], ids=["no credentials", "wrong password", "no batch permission", "explicit id not updatable",
        "explicit id without key", "query empty"])
def test_refused_creation_writes_nothing(world, app, secure_client, headers, body, status, message):
    before, batches = data_state(app), batch_state(app)
    response = call(secure_client, "POST", "/job/retries", headers, body)
    assert response.status_code == status
    if message:
        assert response.get_json()["message"] == message
    assert data_state(app) == before and batch_state(app) == batches


def test_query_selection_is_what_the_creator_may_update(world, app, secure_client, admin):
    batch = create(secure_client, OPA, retries=5, jobQuery={})
    assert batch["createUserId"] == "opa"
    assert batch["totalJobs"] >= 1
    run_batches(app)
    # a and shared: invoice jobs in opa's tenant or none; b (tenant tb), other, standalone untouched.
    assert retries(app) == {"a": 5, "shared": 5, "b": 0, "other": 0, "standalone": 0}
    history = call(secure_client, "GET", f"/history/batch/{batch['id']}", admin).get_json()
    assert history["createUserId"] == "opa" and history["endTime"] is not None


def test_the_execution_jobs_change_only_the_selection_stored_at_creation(world, app, client, secure_client):
    create(secure_client, OPA, retries=8, jobQuery={"processDefinitionKey": "invoice"})
    # A job that would match the query now, created after the batch: not part of it.
    response = client.post("/api/jobs", json=[{"id": "late", "handlerType": "demo.noop", "retries": 0,
                                               "processDefinitionKey": "invoice", "tenantId": "ta"}])
    assert response.status_code == 201
    run_batches(app)
    assert retries(app) == {"a": 8, "shared": 8, "b": 0, "other": 0, "standalone": 0, "late": 0}


def test_execution_jobs_apply_nothing_the_creator_may_not_change_when_they_run(
        world, app, client, secure_client, admin):
    first = create(secure_client, OPA, retries=9, jobIds=["a", "ghost"])
    # "ghost" did not exist when the batch was created; a shipping job of that id appears.
    response = client.post("/api/jobs", json=[{"id": "ghost", "handlerType": "demo.noop", "retries": 0,
                                               "processDefinitionKey": "shipping"}])
    assert response.status_code == 201
    run_batches(app)
    assert retries(app) == {"a": 9, "ghost": 0, "shared": 0, "b": 0, "other": 0, "standalone": 0}
    assert call(secure_client, "GET", f"/history/batch/{first['id']}", admin).get_json()["skippedElements"] == 1
    # Rights revoked between creation and execution: the slice skips what the creator lost.
    create(secure_client, OPA, retries=4, jobIds=["shared"])
    [grant] = call(secure_client, "GET", "/authorization?userIdIn=opa&resourceType=6", admin).get_json()
    assert call(secure_client, "DELETE", f"/authorization/{grant['id']}", admin).status_code == 204
    run_batches(app)
    assert retries(app)["shared"] == 0


def test_explicit_ids_of_another_tenant_are_skipped_like_unknown_ids(world, app, secure_client):
    foreign = create(secure_client, OPA, retries=6, jobIds=["b", "a"])
    unknown = create(secure_client, OPA, retries=6, jobIds=["nope", "a"])
    varying = ("id", "seedJobDefinitionId", "monitorJobDefinitionId", "batchJobDefinitionId", "startTime")
    assert {k: v for k, v in foreign.items() if k not in varying} == {
        k: v for k, v in unknown.items() if k not in varying}
    run_batches(app)
    assert retries(app) == {"a": 6, "shared": 0, "b": 0, "other": 0, "standalone": 0}
    history = {row["id"]: row for row in call(secure_client, "GET", "/history/batch", OPA).get_json()}
    assert history[foreign["id"]]["skippedElements"] == history[unknown["id"]]["skippedElements"] == 1


@pytest.mark.parametrize("user, expected", [("opb", {"a": 0, "b": 7, "shared": 7, "other": 7, "standalone": 7}),
                                            ("admin", {"a": 7, "b": 7, "shared": 7, "other": 7, "standalone": 7})])
def test_batches_of_users_with_wider_rights(world, app, secure_client, admin, user, expected):
    headers = OPB if user == "opb" else admin
    explicit = {"jobIds": ["a"]} if user == "admin" else {}
    batch = create(secure_client, headers, retries=7, jobQuery={}, **explicit)
    assert batch["createUserId"] == ("opb" if user == "opb" else "admin")
    run_batches(app)
    assert retries(app) == expected


# --- reading, createdBy ----------------------------------------------------------------------------

@pytest.fixture
def batches(world, app, secure_client, admin):
    """One batch by opa, one by the admin (no batch job runs, so both stay runtime batches)."""
    mine = create(secure_client, OPA, retries=1, jobIds=["a"])["id"]
    theirs = create(secure_client, admin, retries=1, jobIds=["b"])["id"]
    return mine, theirs


def batch_ids(response):
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json())


@pytest.mark.parametrize("user", ["opa", "opb", "plain", "admin"])
def test_batch_reads_are_filtered(batches, secure_client, admin, user):
    headers = {"opa": OPA, "opb": OPB, "plain": PLAIN, "admin": admin}[user]
    expected = [] if user == "plain" else sorted(batches)
    for path in ("/batch", "/batch/statistics", "/history/batch"):
        assert batch_ids(call(secure_client, "GET", path, headers)) == expected
        assert call(secure_client, "GET", f"{path}/count", headers).get_json() == {"count": len(expected)}
    for batch_id in batches:
        for path in (f"/batch/{batch_id}", f"/history/batch/{batch_id}"):
            assert call(secure_client, "GET", path, headers).status_code == (404 if user == "plain" else 200)


def test_created_by_filters_statistics(batches, secure_client, admin):
    mine, theirs = batches
    assert batch_ids(call(secure_client, "GET", "/batch/statistics?createdBy=opa", admin)) == [mine]
    assert batch_ids(call(secure_client, "GET", "/batch/statistics?createdBy=admin", OPA)) == [theirs]
    assert call(secure_client, "GET", "/batch/statistics/count?createdBy=nobody", admin).get_json() == {"count": 0}
    assert call(secure_client, "GET", f"/history/batch/{mine}", admin).get_json()["createUserId"] == "opa"


@pytest.mark.parametrize("path", ["/batch", "/batch/statistics", "/history/batch", "/batch/count"])
@pytest.mark.parametrize("headers", [None, WRONG], ids=["no credentials", "wrong password"])
def test_batch_reads_need_credentials(batches, secure_client, path, headers):
    assert call(secure_client, "GET", path, headers).status_code == 401


# --- suspend, delete, delete history ------------------------------------------------------------

WRITES = [
    ("PUT", "/batch/{}/suspended", {"suspended": True}, "UPDATE"),
    ("DELETE", "/batch/{}", None, "DELETE"),
    ("DELETE", "/history/batch/{}", None, "DELETE_HISTORY"),
]


@pytest.mark.parametrize("method, path, body, permission", WRITES, ids=[f"{m} {p}" for m, p, *_ in WRITES])
def test_batch_writes(batches, app, secure_client, admin, method, path, body, permission):
    mine, theirs = batches
    before = batch_state(app), data_state(app)
    for headers in (None, WRONG):
        assert call(secure_client, method, path.format(mine), headers, body).status_code == 401
    for user, headers in (("opa", OPA), ("plain", PLAIN)):  # opa may only read its batches
        response = call(secure_client, method, path.format(mine), headers, body)
        assert response.status_code == 403
        assert response.get_json()["message"] == (
            f"The user with id '{user}' does not have '{permission}' permission on resource '{mine}' of type 'Batch'.")
        assert response.get_json()["permissionName"] == permission
    assert (batch_state(app), data_state(app)) == before
    assert call(secure_client, method, path.format(mine), OPB, body).status_code == 204
    assert call(secure_client, method, path.format(theirs), admin, body).status_code == 204
    assert (batch_state(app), data_state(app)) != before
