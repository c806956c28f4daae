"""Settings of the executor runtime and of the database connections, and the 503 of an outage.

The outage itself is end to end in tests/e2e/test_recovery.py (R3); here every kind of
"database unavailable" error SQLAlchemy raises is checked to leave as a 503 with Camunda's error
JSON, never as a 500.
"""

import pytest
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app import create_app
from app.services.jobs import query as job_query_service
from config import ConfigurationError
from config.settings import BaseConfig, TestConfig

POSTGRES_URL = "postgresql://nobody@127.0.0.1:1/never_connected_test"


def test_a_dead_worker_threshold_below_two_heartbeats_is_refused_at_start_up():
    too_eager = type("TooEager", (TestConfig,), {"JOB_HEARTBEAT_INTERVAL_SECONDS": 5.0,
                                                 "JOB_DEAD_WORKER_SECONDS": 8.0})
    with pytest.raises(ConfigurationError, match="JOB_DEAD_WORKER_SECONDS .8. must be at least twice"):
        too_eager.validate()
    BaseConfig.validate()  # the defaults: heartbeat 2 s, dead after 10 s


def test_postgresql_connections_time_out_instead_of_hanging():
    options = create_app("test", overrides={"SQLALCHEMY_DATABASE_URI": POSTGRES_URL}
                         ).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True, "the web tests a pooled connection before using it"
    connect = options["connect_args"]
    assert connect["connect_timeout"] == 5
    assert connect["options"] == "-c statement_timeout=30000"
    assert connect["keepalives"] == 1

    worker = create_app("test", overrides={"SQLALCHEMY_DATABASE_URI": POSTGRES_URL, "DB_POOL_PRE_PING": False,
                                           "DB_STATEMENT_TIMEOUT_SECONDS": 0}).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert worker["pool_pre_ping"] is False
    assert "options" not in worker["connect_args"], "0: no startup option (a pooler may refuse one)"


@pytest.mark.parametrize("error", [
    OperationalError("SELECT 1", {}, Exception("connection refused")),
    InterfaceError("SELECT 1", {}, Exception("connection already closed")),
    PoolTimeoutError("QueuePool limit of size 5 overflow 5 reached"),
])
def test_an_unavailable_database_is_a_503_with_camundas_error_json(client, monkeypatch, error):
    def unavailable(query, authentication=None):
        raise error

    monkeypatch.setattr(job_query_service, "count_jobs", unavailable)
    response = client.get("/engine-rest/job/count")
    assert response.status_code == 503
    body = response.get_json()
    assert body["type"] == "ProcessEngineException" and body["code"] == 0
    assert body["message"].startswith("The database is unavailable; try again shortly (error id ")
