"""The revival extensions under authorization (A16, A20): the preview and
``POST /process-instance/job-retries`` work within what the caller may set retries on, exactly
as ``POST /job/retries`` does. Uses the world of tests/security/conftest.py: opa (tenant ta;
invoice instances; CREATE_BATCH_SET_JOB_RETRIES on batches), opb (tenant tb; ALL), plain.
"""

import pytest

from tests.security.conftest import OPA, OPB, PLAIN, WRONG, call, data_state, missing
from tests.security.test_batch_authorization import batch_state, retries, run_batches


def preview(client, headers, body):
    response = call(client, "POST", "/job/retries/preview", headers, {"retries": 3, **body})
    return response.status_code, response.get_json()


@pytest.mark.parametrize("user, count", [("opa", 2), ("opb", 4), ("plain", 0), ("admin", 5)])
def test_preview_counts_only_what_the_caller_may_revive(world, secure_client, admin, user, count):
    headers = {"opa": OPA, "opb": OPB, "plain": PLAIN, "admin": admin}[user]
    status, answer = preview(secure_client, headers, {"jobQuery": {}})
    assert status == 200, answer
    assert answer["count"] == count
    assert sum(group["count"] for group in answer["byTenantId"]) == count
    if user == "opa":
        assert sorted(answer["sampleJobIds"]) == ["a", "shared"]
        assert {group["value"] for group in answer["byTenantId"]} == {"ta", None}


def test_preview_reports_another_tenants_job_as_missing(world, secure_client):
    status, answer = preview(secure_client, OPA, {"jobIds": ["a", "b", "nope"]})
    assert status == 200, answer
    assert answer["count"] == 1 and answer["sampleJobIds"] == ["a"]
    assert answer["missingJobIds"] == ["b", "nope"]


def test_preview_refuses_a_visible_job_the_caller_may_not_change(world, app, secure_client):
    before = data_state(app)
    status, answer = preview(secure_client, OPA, {"jobIds": ["a", "other"]})
    assert status == 403 and answer["message"] == missing("opa", "retry", "pi-4", "shipping")
    assert data_state(app) == before


@pytest.mark.parametrize("headers", [None, WRONG], ids=["no credentials", "wrong password"])
def test_preview_needs_credentials(world, secure_client, headers):
    assert preview(secure_client, headers, {"jobQuery": {}})[0] == 401


def test_by_process_batch_needs_the_batch_permission(world, app, secure_client):
    before, batches = data_state(app), batch_state(app)
    response = call(secure_client, "POST", "/process-instance/job-retries", PLAIN,
                    {"retries": 5, "processInstances": ["pi-1"]})
    assert response.status_code == 403
    assert response.get_json()["type"] == "AuthorizationException"
    assert data_state(app) == before and batch_state(app) == batches


def test_by_process_batch_changes_only_the_creators_jobs(world, app, secure_client):
    # pi-2 is tenant tb's instance: opa's batch does not select it, as if it had no jobs.
    response = call(secure_client, "POST", "/process-instance/job-retries", OPA,
                    {"retries": 5, "processInstances": ["pi-1", "pi-2", "pi-3", "pi-4"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["createUserId"] == "opa"
    run_batches(app)
    assert retries(app) == {"a": 5, "shared": 5, "b": 0, "other": 0, "standalone": 0}


def test_by_process_batch_over_only_foreign_instances_is_empty(world, app, secure_client):
    response = call(secure_client, "POST", "/process-instance/job-retries", OPA,
                    {"retries": 5, "processInstances": ["pi-2"]})
    assert response.status_code == 400, response.get_json()
