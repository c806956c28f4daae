"""Authorization and tenants on jobs, job definitions, incidents and ingestion (C.7, C.8, A16),
over HTTP with real users, groups, tenants and authorizations set up by the administrator.

The world: tenants ``ta`` (user opa) and ``tb`` (group teamB, user opb); five jobs, all failed
(retries 0, a stack trace, an incident): ``a`` (invoice, pi-1, ta), ``b`` (invoice, pi-2, tb),
``shared`` (invoice, pi-3, no tenant), ``other`` (shipping, pi-4, no tenant), ``standalone`` (no
key, no instance, no tenant). opa may read and update invoice instances; teamB may do
everything on every process definition, instance and batch; plain may do nothing.
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.tables import job_table
from tests.security.conftest import (
    JOBS,
    OPA,
    OPB,
    PLAIN,
    VISIBLE,
    WRONG,
    add_user,
    basic,
    call,
    data_state,
    grant,
    missing,
)


def job_column(app, job_id, column):
    with app.app_context():
        value = db.session.execute(select(job_table.c[column]).where(job_table.c.id == job_id)).scalar()
        db.session.remove()
    return value


def headers_of(name, admin):
    return {"opa": OPA, "opb": OPB, "plain": PLAIN, "admin": admin}[name]


def ids(response):
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json())


# --- queries: filtered, never an error --------------------------------------------------------

@pytest.mark.parametrize("user", sorted(VISIBLE))
def test_job_query_and_count_show_only_what_the_user_may_read(world, secure_client, admin, user):
    headers = headers_of(user, admin)
    expected = VISIBLE[user]
    assert ids(call(secure_client, "GET", "/job", headers)) == expected
    assert ids(call(secure_client, "POST", "/job", headers, {})) == expected
    assert ids(call(secure_client, "GET", "/job?maxResults=10", headers)) == expected
    assert call(secure_client, "GET", "/job/count", headers).get_json() == {"count": len(expected)}
    assert call(secure_client, "POST", "/job/count", headers, {}).get_json() == {"count": len(expected)}
    for name in JOBS:
        response = call(secure_client, "GET", f"/job/{name}", headers)
        if name in expected:
            assert response.status_code == 200 and response.get_json()["id"] == name
        else:
            assert response.status_code == 404
            assert response.get_json() == {"type": "InvalidRequestException", "code": None,
                                           "message": f"Job with id {name} does not exist"}


def test_keyset_pages_stay_within_what_the_user_may_read(world, secure_client):
    seen, token = [], None
    for _ in range(10):
        path = "/job?maxResults=1" + (f"&pageToken={token}" if token else "")
        response = call(secure_client, "GET", path, OPB)
        seen += ids(response)
        token = response.headers.get("X-Next-Page-Token")
        if not token:
            break
    assert seen == VISIBLE["opb"]


def test_revokes_and_global_authorizations_shape_the_filter(world, secure_app, secure_client, admin):
    """A group grant on ``*`` minus a user revoke on one key (the NOT IN form of the condition,
    jobs without a key decided by ``*``), and a GLOBAL grant for everybody on one key."""
    add_user(secure_app, "rev", "pw")
    for method, path, body in [("POST", "/group/create", {"id": "readers", "name": "Readers", "type": "WORKFLOW"}),
                               ("PUT", "/group/readers/members/rev", None)]:
        assert call(secure_client, method, path, admin, body).status_code == 204
    grant(secure_client, admin, 6, "*", ["READ_INSTANCE"], group_id="readers")
    response = call(secure_client, "POST", "/authorization/create", admin, {
        "type": 2, "permissions": ["READ_INSTANCE"], "userId": "rev", "resourceType": 6, "resourceId": "invoice"})
    assert response.status_code == 200, response.get_json()
    rev = basic("rev", "pw")
    assert ids(call(secure_client, "GET", "/job", rev)) == ["other", "standalone"]
    assert call(secure_client, "GET", "/job/count", rev).get_json() == {"count": 2}
    response = call(secure_client, "POST", "/authorization/create", admin, {
        "type": 0, "permissions": ["READ_INSTANCE"], "userId": "*", "resourceType": 6, "resourceId": "shipping"})
    assert response.status_code == 200, response.get_json()
    assert ids(call(secure_client, "GET", "/job", PLAIN)) == ["other"]
    assert ids(call(secure_client, "GET", "/job", OPA)) == ["a", "other", "shared"]


def test_explicit_tenant_filters_are_anded_with_the_users_tenants(world, secure_client):
    assert ids(call(secure_client, "GET", "/job?tenantIdIn=tb", OPA)) == []
    assert ids(call(secure_client, "GET", "/job?tenantIdIn=ta,tb&includeJobsWithoutTenantId=true", OPA)) == [
        "a", "shared"]
    assert ids(call(secure_client, "GET", "/job?withoutTenantId=true", OPA)) == ["shared"]
    assert call(secure_client, "POST", "/job/count", OPA, {"tenantIdIn": ["tb"]}).get_json() == {"count": 0}


@pytest.mark.parametrize("user", sorted(VISIBLE))
def test_incidents_show_only_what_the_user_may_read(world, secure_client, admin, user):
    headers = headers_of(user, admin)
    response = call(secure_client, "GET", "/incident", headers)
    assert response.status_code == 200
    assert sorted(item["configuration"] for item in response.get_json()) == VISIBLE[user]
    assert call(secure_client, "GET", "/incident/count", headers).get_json() == {"count": len(VISIBLE[user])}


@pytest.mark.parametrize("user, expected", [
    ("opa", ["act-a", "act-shared"]),  # READ on invoice; b's definition is tenant tb's
    ("opb", ["act-b", "act-other", "act-shared", "act-standalone"]),
    ("plain", []),
    ("admin", ["act-a", "act-b", "act-other", "act-shared", "act-standalone"]),
])
def test_job_definitions_show_only_what_the_user_may_read(world, secure_client, admin, user, expected):
    headers = headers_of(user, admin)
    for method, body in (("GET", None), ("POST", {})):
        response = call(secure_client, method, "/job-definition", headers, body)
        assert response.status_code == 200
        assert sorted(item["activityId"] for item in response.get_json()) == expected
        assert call(secure_client, method, "/job-definition/count", headers, body).get_json() == {
            "count": len(expected)}


@pytest.mark.parametrize("path", ["/job", "/job/count", "/incident", "/job-definition", "/job/a"])
@pytest.mark.parametrize("headers", [None, WRONG], ids=["no credentials", "wrong password"])
def test_queries_need_credentials(world, secure_client, path, headers):
    assert call(secure_client, "GET", path, headers).status_code == 401


# --- single-job commands --------------------------------------------------------------------

def no_job(job_id):
    return f"No job found with id '{job_id}'."


def does_not_exist(job_id):
    return f"Job with id {job_id} does not exist"


# (method, path, body, success status, permission family, not-found message)
COMMANDS = [
    ("PUT", "/job/{}/retries", {"retries": 5}, 204, "retry", no_job),
    ("PUT", "/job/{}/duedate", {"duedate": "2030-01-01T00:00:00.000+0000"}, 204, "update", no_job),
    ("PUT", "/job/{}/priority", {"priority": 9}, 204, "update", no_job),
    ("PUT", "/job/{}/suspended", {"suspended": True}, 204, "update", no_job),
    ("POST", "/job/{}/execute", None, 204, "update", does_not_exist),
    ("DELETE", "/job/{}", None, 204, "update", does_not_exist),
    ("GET", "/job/{}/stacktrace", None, 200, "read", does_not_exist),
]
COMMAND_IDS = [f"{method} {path}" for method, path, *_ in COMMANDS]


@pytest.mark.parametrize("method, path, body, ok, family, not_found", COMMANDS, ids=COMMAND_IDS)
def test_job_command_refusals_change_nothing(world, app, secure_client, method, path, body, ok, family,
                                             not_found):
    before = data_state(app)
    for headers in (None, WRONG):
        assert call(secure_client, method, path.format("shared"), headers, body).status_code == 401
    # A user without the permission: 403 with Camunda's message and DTO.
    for job, pi, key in (("shared", "pi-3", "invoice"), ("standalone", None, None)):
        response = call(secure_client, method, path.format(job), PLAIN, body)
        assert response.status_code == 403, response.get_json()
        document = response.get_json()
        assert document["type"] == "AuthorizationException"
        assert document["message"] == missing("plain", family, pi, key)
        assert document["userId"] == "plain" and document["permissionName"] is None
        assert [entry["resourceId"] for entry in document["missingAuthorizations"]][:2] == [pi, key]
    # opa may update invoice jobs, but not shipping ones.
    response = call(secure_client, method, path.format("other"), OPA, body)
    assert response.status_code == 403 and response.get_json()["message"] == missing("opa", family, "pi-4", "shipping")
    # A user of another tenant: exactly what an unknown id gets.
    foreign = call(secure_client, method, path.format("a"), OPB, body)
    unknown = call(secure_client, method, path.format("nope"), OPB, body)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json() == {"type": "InvalidRequestException", "message": not_found("a"), "code": None}
    assert unknown.get_json()["message"] == not_found("nope")
    assert data_state(app) == before


@pytest.mark.parametrize("method, path, body, ok, family, not_found", COMMANDS, ids=COMMAND_IDS)
@pytest.mark.parametrize("user, job", [("opa", "a"), ("opb", "b"), ("admin", "a"), ("admin", "standalone")])
def test_job_commands_for_users_with_the_permission(world, app, secure_client, admin, method, path, body, ok,
                                                    family, not_found, user, job):
    before = data_state(app)
    response = call(secure_client, method, path.format(job), headers_of(user, admin), body)
    assert response.status_code == ok, response.get_data(as_text=True)
    if method == "GET":
        assert response.get_data(as_text=True) == f"trace of {job}"
    else:
        assert data_state(app) != before


# --- bulk suspension, job definition retries -----------------------------------------------------

def test_suspension_by_definition_key_leaves_other_tenants_alone(world, app, secure_client):
    response = call(secure_client, "PUT", "/job/suspended", OPB,
                    {"processDefinitionKey": "invoice", "suspended": True})
    assert response.status_code == 204
    assert [job_column(app, job, "suspended") for job in ("a", "b", "shared")] == [False, True, True]


def test_suspension_by_selector_is_refused_whole_when_one_job_is_not_updatable(world, app, secure_client):
    before = data_state(app)
    response = call(secure_client, "PUT", "/job/suspended", PLAIN,
                    {"processDefinitionKey": "invoice", "suspended": True})
    assert response.status_code == 403
    assert response.get_json()["message"] == missing("plain", "update", "pi-3", "invoice")
    response = call(secure_client, "PUT", "/job/suspended", OPA,
                    {"processDefinitionKey": "shipping", "suspended": True})
    assert response.status_code == 403
    standalone = job_column(app, "standalone", "job_definition_id")
    response = call(secure_client, "PUT", "/job/suspended", OPA, {"jobDefinitionId": standalone, "suspended": True})
    assert response.status_code == 403
    assert response.get_json()["message"] == missing("opa", "update", None, None)
    assert call(secure_client, "PUT", "/job/suspended", None,
                {"processDefinitionKey": "invoice", "suspended": True}).status_code == 401
    assert data_state(app) == before
    assert call(secure_client, "PUT", "/job/suspended", OPA,
                {"processDefinitionKey": "invoice", "suspended": True}).status_code == 204
    assert [job_column(app, job, "suspended") for job in ("a", "b", "shared")] == [True, False, True]


def definition_of(app, job_id):
    return job_column(app, job_id, "job_definition_id")


def test_job_definition_retries(world, app, secure_client, admin):
    before = data_state(app)
    shared, a = definition_of(app, "shared"), definition_of(app, "a")
    response = call(secure_client, "PUT", f"/job-definition/{shared}/retries", PLAIN, {"retries": 3})
    assert response.status_code == 403
    assert response.get_json()["message"] == (
        "The user with id 'plain' does not have one of the following permissions: "
        "'RETRY_JOB' permission on resource 'ProcessInstance' or "
        "'RETRY_JOB' permission on resource 'invoice' of type 'ProcessDefinition' or "
        "'UPDATE' permission on resource 'ProcessInstance' or "
        "'UPDATE_INSTANCE' permission on resource 'invoice' of type 'ProcessDefinition'")
    for headers in (None, WRONG):
        assert call(secure_client, "PUT", f"/job-definition/{shared}/retries", headers,
                    {"retries": 3}).status_code == 401
    # Another tenant's definition is a no-op, as an unknown one is.
    assert call(secure_client, "PUT", f"/job-definition/{a}/retries", OPB, {"retries": 3}).status_code == 204
    assert data_state(app) == before
    assert call(secure_client, "PUT", f"/job-definition/{a}/retries", OPA, {"retries": 3}).status_code == 204
    assert job_column(app, "a", "retries") == 3
    other = definition_of(app, "other")
    assert call(secure_client, "PUT", f"/job-definition/{other}/retries", admin, {"retries": 4}).status_code == 204
    assert job_column(app, "other", "retries") == 4


# --- ingestion (POST /api/jobs) ---------------------------------------------------------------

@pytest.mark.parametrize("headers, job, status, message", [
    (None, {"processDefinitionKey": "invoice"}, 401, None),
    (WRONG, {"processDefinitionKey": "invoice"}, 401, None),
    (PLAIN, {"processDefinitionKey": "invoice"}, 403,
     "The user with id 'plain' does not have 'CREATE_INSTANCE' permission on resource 'invoice' of type "
     "'ProcessDefinition'."),
    (OPA, {}, 403, "The user with id 'opa' does not have 'CREATE_INSTANCE' permission on resource "
                   "'ProcessDefinition'."),
    (OPA, {"processDefinitionKey": "invoice", "tenantId": "tb"}, 403,
     "The user with id 'opa' is not a member of tenant 'tb' and cannot create jobs for it."),
], ids=["no credentials", "wrong password", "no permission", "no key", "other tenant"])
def test_ingestion_refusals_write_nothing(world, app, secure_client, headers, job, status, message):
    before = data_state(app)
    response = secure_client.post("/api/jobs", json=[{"handlerType": "demo.noop", "id": "new", **job}],
                                  headers=headers or {})
    assert response.status_code == status
    if message:
        document = response.get_json()
        assert document["type"] == "AuthorizationException" and document["code"] == 0
        assert document["message"] == message and document["userId"] in ("plain", "opa")
    assert data_state(app) == before


@pytest.mark.parametrize("user, job", [("opa", {"processDefinitionKey": "invoice", "tenantId": "ta"}),
                                       ("opb", {"tenantId": "tb"}), ("admin", {"tenantId": "elsewhere"})])
def test_ingestion_with_the_permission(world, app, secure_client, admin, user, job):
    response = secure_client.post("/api/jobs", json=[{"handlerType": "demo.noop", "id": "new", **job}],
                                  headers=headers_of(user, admin))
    assert response.status_code == 201, response.get_json()
    assert job_column(app, "new", "tenant_id") == job["tenantId"]


@pytest.mark.parametrize("resource_type, permission, message", [
    (13, "RETRY_JOB", "The permission 'RETRY_JOB' is not valid for 'BATCH' resource type."),
    (6, "CREATE_BATCH_SET_JOB_RETRIES",
     "The permission 'CREATE_BATCH_SET_JOB_RETRIES' is not valid for 'PROCESS_DEFINITION' resource type."),
    (8, "READ_INSTANCE", "The permission 'READ_INSTANCE' is not valid for 'PROCESS_INSTANCE' resource type."),
])
def test_a_permission_the_resource_type_does_not_have_is_a_400(world, secure_client, admin, resource_type,
                                                               permission, message):
    response = call(secure_client, "POST", "/authorization/create", admin, {
        "type": 1, "permissions": [permission], "userId": "opa", "resourceType": resource_type,
        "resourceId": "*"})
    assert response.status_code == 400
    assert response.get_json()["message"] == message


# --- our extension: a job definition's retry time cycle (A16, A19) ------------------------------

def set_cycle(client, headers, definition_id):
    return client.put(f"/api/job-definitions/{definition_id}/retry-time-cycle",
                      json={"failedJobRetryTimeCycle": "R2/PT1M"}, headers=headers or {})


def test_retry_time_cycle_needs_update_on_the_process_definition(world, app, secure_client, admin):
    ours, theirs = definition_of(app, "a"), definition_of(app, "b")
    before = data_state(app)
    refused = set_cycle(secure_client, OPA, ours)  # opa: UPDATE_INSTANCE on invoice, not UPDATE
    assert refused.status_code == 403 and refused.get_json()["type"] == "AuthorizationException"
    assert set_cycle(secure_client, OPA, theirs).status_code == 404, "another tenant's definition does not exist"
    assert set_cycle(secure_client, None, ours).status_code == 401
    assert data_state(app) == before
    assert set_cycle(secure_client, OPB, theirs).status_code == 204
    assert set_cycle(secure_client, admin, ours).status_code == 204
