"""schemathesis against our own API document, in-process on the WSGI app, authentication on.

Every operation of ``/engine-rest/openapi.json`` gets generated requests (valid and invalid,
a bounded number per operation, derandomized so CI runs are repeatable) sent as an
administrator; every answer must not be a 5xx and must conform to the document (status
declared, body valid against its schema). A failure here is a bug in the product or a
dishonest document: fix that, not this test.
"""

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
def contract_app(app):
    application = create_app("test", overrides={"AUTH_ENABLED": True})
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


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(
        headers=basic(ADMIN, ADMIN_PASSWORD),
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
