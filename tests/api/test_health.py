"""GET /health/live and /health/ready (README "Health checks", spec A22): 200 or 503 with a small
JSON body, each readiness check failing on its own, fast, and without leaking a URL."""

import time

import pytest

from app import create_app
from tests.conftest import RecordingDispatcher

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def make_app(tmp_path, **overrides):
    """An app on the suite's database whose broker is a file broker under tmp_path unless given."""
    settings = {"BROKER_URL": "filesystem://localhost/", "BROKER_FOLDER": str(tmp_path / "broker"),
                "BROKER_CONTROL_FOLDER": str(tmp_path / "broker-control")}
    settings.update(overrides)
    application = create_app("test", overrides=settings)
    application.extensions["dispatcher"] = RecordingDispatcher()
    return application


@pytest.fixture
def file_broker_app(tmp_path):
    return make_app(tmp_path)


def test_live_answers_without_touching_the_database(tmp_path):
    # A database nobody can reach: liveness must not depend on it.
    client = make_app(tmp_path, SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none").test_client()
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.get_json() == {"status": "UP"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_with_the_database_at_head_and_a_writable_file_broker(file_broker_app):
    response = file_broker_app.test_client().get("/health/ready")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "UP"
    assert body["checks"]["database"] == {"status": "UP"}
    heads = list(file_broker_app.extensions["migration_heads"])
    assert body["checks"]["migrations"] == {"status": "UP", "current": heads, "head": heads}
    assert body["checks"]["broker"] == {"status": "UP"}


def test_the_head_is_read_from_the_migration_scripts(file_broker_app):
    heads = file_broker_app.extensions["migration_heads"]
    assert len(heads) == 1 and heads[0].isdigit(), heads


def test_a_file_broker_whose_folder_is_gone_is_not_ready(file_broker_app, tmp_path):
    (tmp_path / "broker").rmdir()
    response = file_broker_app.test_client().get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "DOWN"
    assert body["checks"]["broker"]["status"] == "DOWN"
    assert "folder" in body["checks"]["broker"]["reason"]
    assert body["checks"]["database"] == {"status": "UP"}


def test_an_unreachable_redis_is_not_ready_and_answers_fast(tmp_path):
    client = make_app(tmp_path, BROKER_URL=UNREACHABLE_REDIS, HEALTH_TIMEOUT_SECONDS=1.0).test_client()
    started = time.monotonic()
    response = client.get("/health/ready")
    assert time.monotonic() - started < 3.0
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["broker"] == {"status": "DOWN", "reason": "ConnectionError"}
    assert body["checks"]["database"] == {"status": "UP"}


def test_redis_from_the_test_settings_is_ready(app, tmp_path):
    if not app.config["BROKER_URL"].startswith("redis://") or app.config["BROKER_URL"] == UNREACHABLE_REDIS:
        pytest.skip("TEST_REDIS_URL is not set")
    client = make_app(tmp_path, BROKER_URL=app.config["BROKER_URL"]).test_client()
    for _ in range(3):  # the client and its connection are reused from probe to probe
        response = client.get("/health/ready")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["checks"]["broker"] == {"status": "UP"}


def test_a_database_that_cannot_be_reached_is_not_ready_and_its_url_is_not_shown(tmp_path):
    client = make_app(tmp_path, SQLALCHEMY_DATABASE_URI="postgresql://scott:tiger-secret@127.0.0.1:1/nothing",
                      DB_CONNECT_TIMEOUT_SECONDS=1).test_client()
    started = time.monotonic()
    response = client.get("/health/ready")
    assert time.monotonic() - started < 3.0
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "DOWN"
    assert body["checks"]["database"] == {"status": "DOWN", "reason": "OperationalError"}
    assert "migrations" not in body["checks"], "unknown while the database cannot be asked"
    assert body["checks"]["broker"] == {"status": "UP"}
    assert "tiger-secret" not in response.get_data(as_text=True)
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_a_database_behind_the_migrations_is_not_ready(file_broker_app):
    file_broker_app.extensions["migration_heads"] = ("9999",)
    response = file_broker_app.test_client().get("/health/ready")
    assert response.status_code == 503
    migrations = response.get_json()["checks"]["migrations"]
    assert migrations["status"] == "DOWN"
    assert migrations["head"] == ["9999"]
    assert "db upgrade" in migrations["reason"]


def test_health_is_outside_the_camunda_base_path(client):
    assert client.get("/engine-rest/health/live").status_code == 404
    assert client.post("/health/live").status_code == 405
