"""Shared fixtures: one app per test session on the real migrations, a clean database per test.

The database is PostgreSQL when ``TEST_DATABASE_URL`` names one, else a SQLite file;
``DATABASE_URL`` is never read, and a PostgreSQL database not named ``test`` or ``<name>_test``
is refused before its schema is dropped (tests/guard.py). Unit and API tests never talk to a
broker: the ``dispatched`` recorder replaces the dispatcher and checks that every task argument
is JSON-serialisable (eager mode would hide that). End-to-end tests (tests/e2e) start real
Celery worker processes against a real broker.
"""

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text

os.environ.setdefault("APP_ENV", "test")

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.guard import require_test_database  # noqa: E402
from tests.support import BATCH_TARGET  # noqa: E402

TABLES = ("batch_slice", "batch", "historic_batch", "incident", "job_stacktrace", "job", "job_definition", "worker",
          "idempotency_key", "user_operation_log", "job_log")


class RecordingDispatcher:
    """Stands in for the Celery dispatcher in unit and API tests."""

    def __init__(self):
        self.sent = []

    def send(self, name, args=(), countdown=None, expires=None):
        json.dumps(list(args))  # raises for datetimes, UUIDs, ORM objects ...
        self.sent.append((name, tuple(args)))

    def names(self):
        return [name for name, _ in self.sent]

    def clear(self):
        self.sent.clear()


def reset_database(app):
    """Drop everything and run the real migrations; refuses a database not named for tests."""
    import flask_migrate

    with app.app_context():
        engine = db.engine
        require_test_database(engine.url)  # before the first statement: nothing is touched
        if engine.dialect.name == "sqlite" and engine.url.database:
            # The default file lives in INSTANCE_DIR, which a fresh checkout does not have yet.
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade()


def clean_tables(app):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
        else:
            for table in TABLES:
                db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="session")
def app():
    application = create_app("test")
    reset_database(application)
    return application


@pytest.fixture(autouse=True)
def dispatched(request, app):
    """A fresh recorder per test; the database is cleaned before each test."""
    clean_tables(app)
    recorder = RecordingDispatcher()
    original = app.extensions["dispatcher"]
    app.extensions["dispatcher"] = recorder
    yield recorder
    app.extensions["dispatcher"] = original


@pytest.fixture
def cli(app):
    """``cli("retries", "--retries", "3", ...)`` runs ``flask jobs ...`` against the test app."""
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["jobs", *args])

    return invoke


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def batch_config(app):
    """``batch_config(NAME=value, ...)`` sets batch and retry settings for one test (no per-type
    slice sizes unless given); the originals come back afterwards."""
    keys = ("INVOCATIONS_PER_BATCH_JOB", "INVOCATIONS_PER_BATCH_JOB_BY_TYPE", "BATCH_JOBS_PER_SEED",
            "DEFAULT_JOB_RETRIES", "JOB_RETRY_DELAY_SECONDS")
    saved = {key: app.config[key] for key in keys}
    app.config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"] = {}
    yield app.config.update
    app.config.update(saved)


@pytest.fixture
def targets(make_jobs):
    """``targets(count, **attributes)``: ids of new jobs the executor never runs (BATCH_TARGET)."""
    def create(count=1, **common):
        return [job["id"] for job in make_jobs(*[{} for _ in range(count)], handlerType=BATCH_TARGET, **common)]

    return create


@pytest.fixture
def make_jobs(client):
    """Create jobs through ``POST /api/jobs``; returns the created JobDtos."""

    def create(*items, **common):
        payload = [{"handlerType": "demo.noop", **common, **item} for item in (items or [{}])]
        response = client.post("/api/jobs", json=payload)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a real HTTP server (127.0.0.1, a free port) in a daemon thread, for clients that
    speak HTTP themselves. Returns the Camunda base URL, e.g. ``http://127.0.0.1:PORT/engine-rest``.
    The database is still cleaned before each test by ``dispatched``."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live_server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{app.config['REST_BASE_PATH']}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


# The administrator the client tests log in as (tests/api third-party clients, tests/e2e).
CLIENT_ADMIN, CLIENT_ADMIN_PASSWORD = "clientadmin", "client-secret"


def ensure_client_admin(application):
    """Create the client tests' administrator unless it is there (tests/security empties the
    identity tables before each of its tests, so every test asks again)."""
    from app.services.identity.bootstrap import bootstrap_administrator

    with application.app_context():
        bootstrap_administrator(CLIENT_ADMIN, CLIENT_ADMIN_PASSWORD)
        db.session.remove()
    return CLIENT_ADMIN, CLIENT_ADMIN_PASSWORD


@pytest.fixture(scope="session")
def secure_live_server(app):
    """Like ``live_server``, for an app with authentication ON (``AUTH_ENABLED``), on the same
    database; with ``client_admin`` its credentials are valid."""
    import threading

    from werkzeug.serving import make_server

    secure = create_app("test", overrides={"AUTH_ENABLED": True})
    server = make_server("127.0.0.1", 0, secure, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="secure_live_server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{secure.config['REST_BASE_PATH']}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def generic_client_with_credentials(module, host, user, password):
    """A generic-camunda-client ``ApiClient`` that sends HTTP Basic credentials.

    ``Configuration(username=..., password=...)`` alone sends nothing: the client was generated
    from Camunda's OpenAPI document, which declares no security scheme, so no operation lists
    ``basicAuth`` in its auth settings. The configuration still builds the header
    (``get_basic_auth_token()``); the client sends it on every request as a default header.
    """
    configuration = module.Configuration(host=host, username=user, password=password)
    return module.ApiClient(configuration, header_name="Authorization",
                            header_value=configuration.get_basic_auth_token())


@pytest.fixture
def client_admin(app):
    """``(user, password)`` of an administrator, for clients of ``secure_live_server``."""
    return ensure_client_admin(app)


def is_postgres(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
