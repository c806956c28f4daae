"""The historic job log and a batch's outcome under authorization (A16, A19): entries are
filtered by ``READ_HISTORY`` on their process definition (none: ``*``) and the caller's tenants;
an entry the caller may not read does not exist for it; the outcome needs ``READ_HISTORY`` on
the batch. Uses the world of tests/security/conftest.py: opa (tenant ta; invoice rights without
READ_HISTORY; READ_HISTORY on batches), opb (tenant tb; ALL on process definitions, instances and
batches), plain (nothing). Each job's creation is logged when the world ingests it.
"""

import pytest

from tests.security.conftest import OPA, OPB, PLAIN, WRONG, call


def logged_jobs(client, headers, query=""):
    response = call(client, "GET", f"/history/job-log{query}", headers)
    assert response.status_code == 200, response.get_json()
    return sorted(entry["jobId"] for entry in response.get_json())


def log_id_of(client, admin, job_id):
    [entry] = call(client, "GET", f"/history/job-log?jobId={job_id}", admin).get_json()
    return entry["id"]


@pytest.mark.parametrize("user, expected", [
    ("opa", []),  # no READ_HISTORY on any process definition
    ("opb", ["b", "other", "shared", "standalone"]),
    ("plain", []),
    ("admin", ["a", "b", "other", "shared", "standalone"]),
])
def test_job_log_lists_are_filtered(world, secure_client, admin, user, expected):
    headers = {"opa": OPA, "opb": OPB, "plain": PLAIN, "admin": admin}[user]
    assert logged_jobs(secure_client, headers) == expected
    for method in ("GET", "POST"):
        response = call(secure_client, method, "/history/job-log/count", headers, {} if method == "POST" else None)
        assert response.get_json() == {"count": len(expected)}
    response = call(secure_client, "POST", "/history/job-log", headers, {})
    assert sorted(entry["jobId"] for entry in response.get_json()) == expected


def test_read_history_on_a_definition_opens_its_entries_within_the_tenants(world, secure_client, admin):
    [existing] = call(secure_client, "GET", "/authorization?userIdIn=opa&resourceType=6", admin).get_json()
    response = call(secure_client, "PUT", f"/authorization/{existing['id']}", admin, {
        **{key: existing[key] for key in ("userId", "groupId", "resourceType", "resourceId")},
        "permissions": existing["permissions"] + ["READ_HISTORY"]})
    assert response.status_code == 204, response.get_json()
    # b is tenant tb's: still invisible to opa.
    assert logged_jobs(secure_client, OPA) == ["a", "shared"]


def test_an_unreadable_entry_does_not_exist(world, secure_client, admin):
    foreign = log_id_of(secure_client, admin, "b")
    for path in (f"/history/job-log/{foreign}", f"/history/job-log/{foreign}/stacktrace"):
        assert call(secure_client, "GET", path, OPA).status_code == 404
        assert call(secure_client, "GET", path, PLAIN).status_code == 404
    assert call(secure_client, "GET", f"/history/job-log/{foreign}", OPB).get_json()["jobId"] == "b"
    unknown = call(secure_client, "GET", "/history/job-log/999999999", OPA).get_json()
    assert call(secure_client, "GET", f"/history/job-log/{foreign}", OPA).get_json()["message"] == \
        unknown["message"].replace("999999999", foreign)


@pytest.mark.parametrize("headers", [None, WRONG], ids=["no credentials", "wrong password"])
def test_job_log_needs_credentials(world, secure_client, headers):
    assert call(secure_client, "GET", "/history/job-log", headers).status_code == 401
    assert call(secure_client, "GET", "/history/job-log/count", headers).status_code == 401


def test_outcome_needs_read_history_on_the_batch(world, secure_client, admin):
    batch = call(secure_client, "POST", "/job/retries", admin, {"retries": 2, "jobIds": ["a", "b"]}).get_json()
    path = f"/history/batch/{batch['id']}/outcome"
    assert call(secure_client, "GET", path, admin).get_json()["elements"] == 2
    assert call(secure_client, "GET", path, OPA).get_json()["elements"] == 2  # READ_HISTORY on Batch *
    assert call(secure_client, "GET", path, PLAIN).status_code == 404
    assert call(secure_client, "GET", path, None).status_code == 401
