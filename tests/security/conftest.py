"""An app with authentication on, on the session database, and identity helpers.

The suite's ``app`` keeps authentication off (TestConfig); ``secure_app`` is a second app on
the same database with ``AUTH_ENABLED`` on. Identity tables are emptied and both apps'
credential caches cleared before each test here.
"""

import base64

import pytest
from sqlalchemy import delete

from app import create_app
from app.core.permissions import CAMUNDA_ADMIN
from app.extensions import db
from app.models.tables import (
    authorization_table,
    group_member_table,
    group_table,
    incident_table,
    job_definition_table,
    job_table,
    tenant_member_table,
    tenant_table,
    user_table,
)
from app.services.identity import bootstrap, groups, users
from tests.conftest import RecordingDispatcher

IDENTITY_TABLES = (authorization_table, tenant_member_table, group_member_table, tenant_table, group_table,
                   user_table)
ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
BASE = "/engine-rest"


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="session")
def secure_app(app):
    application = create_app("test", overrides={"AUTH_ENABLED": True})
    application.extensions["dispatcher"] = RecordingDispatcher()
    return application


@pytest.fixture(autouse=True)
def clean_identity(app, secure_app):
    with app.app_context():
        for table in IDENTITY_TABLES:
            db.session.execute(delete(table))
        db.session.commit()
        db.session.remove()
    for application in (app, secure_app):
        application.extensions["credential_cache"].clear()


@pytest.fixture
def secure_client(secure_app):
    return secure_app.test_client()


def add_user(app, user_id, password="pw", admin=False, **profile):
    """A user straight through the service (no HTTP); ``admin``: also in camunda-admin."""
    with app.app_context():
        users.create_user(None, {"id": user_id, **profile}, password)
        if admin:
            bootstrap.ensure_admin_group()
            groups.add_member(None, CAMUNDA_ADMIN, user_id)
        db.session.remove()


@pytest.fixture
def admin(secure_app):
    """The administrator's Authorization header."""
    add_user(secure_app, ADMIN, ADMIN_PASSWORD, admin=True)
    return basic(ADMIN, ADMIN_PASSWORD)


def identity_state(app):
    """Every identity row, to show that a refused request wrote nothing."""
    with app.app_context():
        state = {table.name: sorted(tuple(str(value) for value in row)
                                    for row in db.session.execute(table.select()).all())
                 for table in IDENTITY_TABLES}
        db.session.remove()
    return state


# --- the authorization world (test_job_authorization, test_batch_authorization) ----------------
# Tenants ``ta`` (user opa) and ``tb`` (group teamB, user opb); five failed jobs (retries 0, a
# stack trace, an incident): ``a`` (invoice, pi-1, ta), ``b`` (invoice, pi-2, tb), ``shared``
# (invoice, pi-3, no tenant), ``other`` (shipping, pi-4, no tenant), ``standalone`` (no key, no
# instance, no tenant). opa may read, update and create invoice instances and create/read set-
# retries batches; teamB may do everything on every process definition, instance and batch;
# plain may do nothing.

OPA, OPB, PLAIN = basic("opa", "pw"), basic("opb", "pw"), basic("plain", "pw")
WRONG = basic("opa", "not-the-password")
JOBS = {
    "a": {"processDefinitionKey": "invoice", "processInstanceId": "pi-1", "tenantId": "ta"},
    "b": {"processDefinitionKey": "invoice", "processInstanceId": "pi-2", "tenantId": "tb"},
    "shared": {"processDefinitionKey": "invoice", "processInstanceId": "pi-3"},
    "other": {"processDefinitionKey": "shipping", "processInstanceId": "pi-4"},
    "standalone": {},
}
VISIBLE = {
    "opa": ["a", "shared"],
    "opb": ["b", "other", "shared", "standalone"],
    "plain": [],
    "admin": ["a", "b", "other", "shared", "standalone"],
}


def call(client, method, path, headers=None, body=None):
    return client.open(BASE + path, method=method, json=body, headers=headers or {})


def grant(client, admin, resource_type, resource_id, permissions, user_id=None, group_id=None):
    response = call(client, "POST", "/authorization/create", admin, {
        "type": 1, "permissions": permissions, "userId": user_id, "groupId": group_id,
        "resourceType": resource_type, "resourceId": resource_id})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def world(client, secure_app, secure_client, admin):
    """Identity set up over HTTP by the admin; jobs through ``POST /api/jobs`` on the app without
    authentication. Returns ``{name: job id}`` (ids are the names)."""
    for user in ("opa", "opb", "plain"):
        add_user(secure_app, user, "pw")
    for method, path, body in [
        ("POST", "/tenant/create", {"id": "ta", "name": "Tenant A"}),
        ("POST", "/tenant/create", {"id": "tb", "name": "Tenant B"}),
        ("POST", "/group/create", {"id": "teamB", "name": "Team B", "type": "WORKFLOW"}),
        ("PUT", "/group/teamB/members/opb", None),
        ("PUT", "/tenant/ta/user-members/opa", None),
        ("PUT", "/tenant/tb/group-members/teamB", None),
    ]:
        response = call(secure_client, method, path, admin, body)
        assert response.status_code == 204, (path, response.get_json())
    grant(secure_client, admin, 6, "invoice", ["READ", "READ_INSTANCE", "UPDATE_INSTANCE", "RETRY_JOB",
                                               "CREATE_INSTANCE"], user_id="opa")
    grant(secure_client, admin, 13, "*", ["CREATE_BATCH_SET_JOB_RETRIES", "READ", "READ_HISTORY"], user_id="opa")
    for resource_type in (6, 8, 13):
        grant(secure_client, admin, resource_type, "*", ["ALL"], group_id="teamB")
    payload = [{"id": name, "handlerType": "demo.noop", "retries": 0, "activityId": f"act-{name}",
                "exceptionMessage": "boom", "exceptionStacktrace": f"trace of {name}", **attributes}
               for name, attributes in JOBS.items()]
    response = client.post("/api/jobs", json=payload)
    assert response.status_code == 201, response.get_json()
    return {name: name for name in JOBS}


def data_state(app):
    """Every job, job definition and incident row, to show that a refused request wrote nothing."""
    with app.app_context():
        state = {table.name: sorted(tuple(str(value) for value in row)
                                    for row in db.session.execute(table.select()).all())
                 for table in (job_table, job_definition_table, incident_table)}
        db.session.remove()
    return state


def missing(user, family, pi, key):
    """Camunda's composite message for a job with instance ``pi`` and definition ``key``."""
    on_pi = f"resource '{pi}' of type 'ProcessInstance'" if pi else "resource 'ProcessInstance'"
    on_pd = f"resource '{key}' of type 'ProcessDefinition'" if key else "resource 'ProcessDefinition'"
    entries = {
        "read": [("READ", on_pi), ("READ_INSTANCE", on_pd)],
        "update": [("UPDATE", on_pi), ("UPDATE_INSTANCE", on_pd)],
        "retry": [("RETRY_JOB", on_pi), ("RETRY_JOB", on_pd), ("UPDATE", on_pi), ("UPDATE_INSTANCE", on_pd)],
    }[family]
    return (f"The user with id '{user}' does not have one of the following permissions: "
            + " or ".join(f"'{permission}' permission on {where}" for permission, where in entries))
