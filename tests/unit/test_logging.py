"""Log records carry the request, job and batch they belong to; LOG_FORMAT=json writes one JSON
object per line (README "Logs", spec A22)."""

import io
import json
import logging

import pytest

from app.api.request_context import request_id_from
from app.core.logs import (
    JsonFormatter,
    batch_context,
    configure_logging,
    install_record_factory,
    job_context,
    request_id_var,
)
from app.services.executor.runtime import ExecutorRuntime
from config import BaseConfig, ConfigurationError

log = logging.getLogger("tests.unit.logging")


@pytest.fixture
def captured():
    """A JSON handler on the root logger for one test; yields its stream."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("INFO", "json", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_context_that_is_set(captured):
    log.info("outside")
    with job_context("job-1", "batch-9"):
        log.warning("inside %s", "a job")
    with batch_context("batch-7"):
        log.info("a batch")
    token = request_id_var.set("req-3")
    try:
        log.info("a request")
    finally:
        request_id_var.reset(token)
    outside, inside, batch, request = lines(captured)
    assert outside["message"] == "outside" and "job_id" not in outside and "request_id" not in outside
    assert inside["message"] == "inside a job"
    assert (inside["job_id"], inside["batch_id"], inside["level"]) == ("job-1", "batch-9", "WARNING")
    assert batch["batch_id"] == "batch-7" and "job_id" not in batch
    assert request["request_id"] == "req-3"
    assert {"time", "level", "logger", "process", "message"} <= set(outside)
    assert outside["time"].endswith("+00:00")


def test_a_traceback_stays_inside_one_json_line(captured):
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        log.exception("it broke")
    (entry,) = lines(captured)
    assert "ValueError: line one\nline two" in entry["exception"]


def test_the_text_format_appends_the_context():
    stream = io.StringIO()
    handler = configure_logging(logging.getLogger().level, "text", stream)
    try:
        with job_context("job-2"):
            log.warning("text line")
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue().rstrip().endswith("tests.unit.logging: text line [job_id=job-2]")


def test_a_second_configuration_replaces_the_first_handler():
    root = logging.getLogger()
    level = root.level
    first = configure_logging("INFO", "text", io.StringIO())
    second = configure_logging("INFO", "json", io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
        assert isinstance(second.formatter, JsonFormatter)
    finally:
        root.removeHandler(second)
        root.setLevel(level)


def test_log_format_must_be_text_or_json():
    class Xml(BaseConfig):
        LOG_FORMAT = "xml"

    with pytest.raises(ConfigurationError, match="LOG_FORMAT must be text or json"):
        Xml.validate()
    with pytest.raises(ValueError):
        configure_logging("INFO", "xml")


@pytest.mark.parametrize("header, kept", [
    ("abc-123", True), ("a.b:c_d-9", True), ("x" * 128, True),
    ("x" * 129, False), ("two words", False), ("line\nbreak", False), ("", False), (None, False),
])
def test_a_request_id_from_the_caller_is_kept_only_when_it_is_a_plain_token(header, kept):
    result = request_id_from(header)
    assert (result == header) is kept
    assert result and len(result) <= 128


def test_each_request_logs_one_line_with_its_id(client, caplog):
    install_record_factory()
    caplog.set_level(logging.INFO, logger="jobservice.access")
    response = client.get("/engine-rest/job/count", headers={"X-Request-Id": "req-from-caller"})
    assert response.headers["X-Request-Id"] == "req-from-caller"
    (record,) = [r for r in caplog.records if r.name == "jobservice.access"]
    assert record.request_id == "req-from-caller"
    assert record.getMessage().startswith("GET /engine-rest/job/count 200 ")
    generated = client.get("/engine-rest/job/count").headers["X-Request-Id"]
    assert len(generated) == 32 and generated != "req-from-caller"
    assert request_id_var.get() is None, "the id does not outlive its request"


def test_health_checks_and_scrapes_log_at_debug_only(client, caplog):
    caplog.set_level(logging.INFO, logger="jobservice.access")
    client.get("/health/live")
    client.get("/metrics")
    assert [r for r in caplog.records if r.name == "jobservice.access"] == []


def test_a_failed_job_is_logged_with_its_job_id(app, make_jobs, app_context, caplog):
    install_record_factory()
    make_jobs({"id": "log-fail", "handlerType": "demo.fail-until", "handlerConfiguration": {"failures": 5}})
    caplog.set_level(logging.INFO, logger="app.services.executor.execute")
    ExecutorRuntime(app, worker_id="w-logging").run_rounds()
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failed and all(r.job_id == "log-fail" for r in failed), [(r.getMessage(), r.job_id) for r in failed]
    assert all(r.batch_id is None for r in failed)


def test_the_lines_of_a_batch_job_carry_the_batch_id(app, client, make_jobs, app_context, caplog):
    install_record_factory()
    make_jobs({"id": "target-1", "retries": 0}, {"id": "target-2", "retries": 0})
    response = client.post("/engine-rest/job/retries", json={"jobIds": ["target-1", "target-2"], "retries": 1})
    assert response.status_code == 200, response.get_json()
    batch_id = response.get_json()["id"]
    caplog.set_level(logging.DEBUG, logger="app.services.executor.runtime")
    ExecutorRuntime(app, worker_id="w-batch-logging").run_rounds()
    finished = [r for r in caplog.records if r.getMessage().startswith("job ") and r.getMessage().endswith(": done")]
    targets = [r for r in finished if r.job_id in ("target-1", "target-2")]
    batch_jobs = [r for r in finished if r not in targets]
    assert len(batch_jobs) >= 2, "the seed and the execution job ran (and the monitor, if any)"
    assert {r.batch_id for r in batch_jobs} == {batch_id}
    assert all(r.job_id in r.getMessage() for r in batch_jobs)
    assert len(targets) == 2 and {r.batch_id for r in targets} == {None}, "revived by the batch, not part of it"
