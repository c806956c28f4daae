"""schemathesis against our own API document, in-process on the WSGI app, authentication on.

Every operation of ``/engine-rest/openapi.json`` gets generated requests (schemathesis'
coverage phase: the boundaries of every parameter and property, valid and invalid; then a
bounded number of random ones, derandomized so CI runs are repeatable) sent as an
administrator; every answer must not be a 5xx and must conform to the document (status
declared, body valid against its schema). A failure here is a bug in the product or a
dishonest document: fix that, not this test.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import delete

from app import create_app
from app.extensions import db
from tests.conftest import RecordingDispatcher
from tests.security.conftest import IDENTITY_TABLES, add_user, basic

ADMIN, ADMIN_PASSWORD = "openapiadmin", "openapi-secret"
MAX_EXAMPLES = 6


@pytest.fixture(scope="module")
def contract_app(app, tmp_path_factory):
    # A reachable broker, so that /health/ready answers 200 as in a healthy deployment: the test
    # Redis when there is one, else the file broker in a folder of this module's own.
    broker = {} if os.environ.get("TEST_REDIS_URL") else {
        "BROKER_URL": "filesystem://localhost/", "BROKER_FOLDER": str(tmp_path_factory.mktemp("contract-broker"))}
    application = create_app("test", overrides={"AUTH_ENABLED": True, **broker})
    application.extensions["dispatcher"] = RecordingDispatcher()
    _clear_identity(application)
    add_user(application, ADMIN, ADMIN_PASSWORD, admin=True)
    yield application
    _clear_identity(application)


def _clear_identity(application):
    with application.app_context():
        for table in IDENTITY_TABLES:
            db.session.execute(delete(table))
        db.session.commit()
        db.session.remove()
    application.extensions["credential_cache"].clear()


@pytest.fixture(scope="module")
def api_schema(contract_app):
    return schemathesis.openapi.from_wsgi("/engine-rest/openapi.json", contract_app)


# The /engine-rest/engine/default copies run the same views with the same schemas as /engine-rest,
# so they are left out here (half the time); tests/api/test_openapi.py checks they are documented.
@pytest.fixture
def seeded(contract_app):
    """Something in every list, so that the answers' bodies are checked with data in them: jobs
    (one out of retries, with its incident and job definition), a batch with its history."""
    client = contract_app.test_client()
    admin = basic(ADMIN, ADMIN_PASSWORD)
    created = client.post("/api/jobs", headers=admin, json=[
        {"handlerType": "demo.noop", "dueDate": "2024-01-31T13:45:00.000+0000", "tenantId": "t1"},
        {"handlerType": "demo.noop", "retries": 0, "exceptionMessage": "failed", "processDefinitionKey": "k"},
    ])
    assert created.status_code == 201, created.get_json()
    batch = client.post("/engine-rest/job/retries", headers=admin,
                        json={"retries": 1, "jobIds": [job["id"] for job in created.get_json()]})
    assert batch.status_code == 200, batch.get_json()
    assert client.get("/engine-rest/incident/count", headers=admin).get_json() == {"count": 1}


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=r"^/engine-rest/engine/default/")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, seeded):
    case.call_and_validate(
        headers=basic(ADMIN, ADMIN_PASSWORD),
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
