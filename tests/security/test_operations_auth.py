"""Who may call the operator endpoints (spec A22): the health checks without credentials, /metrics
with HTTP Basic like every route, or with METRICS_TOKEN as a bearer token instead."""

import pytest
from werkzeug.test import Client

from app import create_app
from app.api.auth import PUBLIC_ENDPOINTS
from app.api.metrics import BAD_TOKEN
from app.services.metrics import worker_metrics_app
from config import BaseConfig, ConfigurationError
from tests.conftest import RecordingDispatcher
from tests.security.conftest import basic

TOKEN = "scrape-t0ken-for-tests"


@pytest.fixture(scope="module")
def token_app(app):
    application = create_app("test", overrides={"AUTH_ENABLED": True, "METRICS_TOKEN": TOKEN})
    application.extensions["dispatcher"] = RecordingDispatcher()
    return application


def test_only_health_engine_list_api_document_and_console_shells_are_public():
    # GET /engine: Cockpit lists the engines before logging in (spec C.6, A18).
    # The API document and Swagger UI describe the API and hold no data (spec A21).
    assert PUBLIC_ENDPOINTS == {"health.live", "health.ready", "engines.engine_names", "api_document.get_document",
                                "swagger_ui.page", "swagger_ui.initializer", "swagger_ui.asset",
                                # The console's page shells and assets hold no data (spec A23).
                                "console.index", "console.page", "console.job", "console.batch",
                                "console.static"}


def test_health_checks_answer_without_credentials(secure_client):
    assert secure_client.get("/health/live").status_code == 200
    assert secure_client.get("/health/ready").status_code in (200, 503)  # the suite's broker may be absent
    assert secure_client.get("/health/ready").get_json()["checks"]["database"] == {"status": "UP"}


def test_metrics_without_a_token_setting_need_basic_credentials(secure_client, admin):
    response = secure_client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="default"'
    assert secure_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
    response = secure_client.get("/metrics", headers=admin)
    assert response.status_code == 200
    assert "jobservice_jobs" in response.get_data(as_text=True)


def test_metrics_with_a_token_setting_need_that_bearer_token(token_app, admin):
    client = token_app.test_client()
    for headers in ({}, admin, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert response.get_json() == {"type": "InvalidRequestException", "message": BAD_TOKEN, "code": None}
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "jobservice_jobs" in response.get_data(as_text=True)


def test_the_metrics_token_opens_nothing_else(token_app):
    client = token_app.test_client()
    assert client.get("/engine-rest/job/count", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401


def test_the_metrics_token_also_guards_metrics_when_authentication_is_off(app):
    application = create_app("test", overrides={"METRICS_TOKEN": TOKEN})
    client = application.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_request_id_comes_back_even_on_a_401(secure_client):
    response = secure_client.get("/engine-rest/job/count", headers={"X-Request-Id": "trace-42"})
    assert response.status_code == 401
    assert response.headers["X-Request-Id"] == "trace-42"


def test_basic_credentials_never_reach_the_logs(secure_client, admin, caplog):
    caplog.set_level("DEBUG")
    secure_client.get("/metrics", headers=basic("admin", "wrong-Pa55word"))
    secure_client.get("/engine-rest/job/count", headers=admin)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "wrong-Pa55word" not in logged and "admin-secret" not in logged
    assert "Authorization" not in logged and "Basic " not in logged
    assert "GET /engine-rest/job/count 200" in logged, "the access line is there, without the header"


def test_a_worker_metrics_port_needs_a_token_while_authentication_is_on():
    class Guarded(BaseConfig):
        AUTH_ENABLED = True
        WORKER_METRICS_PORT = 9100
        METRICS_TOKEN = None

    with pytest.raises(ConfigurationError, match="WORKER_METRICS_PORT needs METRICS_TOKEN"):
        Guarded.validate()
    Guarded.METRICS_TOKEN = TOKEN
    Guarded.validate()
    Guarded.METRICS_TOKEN, Guarded.AUTH_ENABLED = None, False
    Guarded.validate()  # without authentication the port may be open (like every route then)


def test_the_worker_endpoint_wants_the_token_and_serves_only_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    client = Client(worker_metrics_app(TOKEN))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=")
    assert client.get("/other", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
