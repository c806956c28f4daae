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
