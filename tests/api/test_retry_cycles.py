"""Retry time cycles over HTTP (spec C.10, A19): per job at ingestion, per handler type, global;
the 7.24 initial retries and the legacy mode; the due date a failure sets."""

from datetime import timedelta

import pytest

from app import create_app
from app.core.dates import parse_date, utcnow
from config import ConfigurationError

FAR_FUTURE = "2999-01-01T00:00:00.000+0000"


@pytest.fixture
def config(app):
    keys = ("FAILED_JOB_RETRY_TIME_CYCLE", "FAILED_JOB_RETRY_CYCLE_BY_TYPE",
            "LEGACY_JOB_RETRY_BEHAVIOR_ENABLED", "DEFAULT_JOB_RETRIES", "JOB_RETRY_DELAY_SECONDS")
    saved = {key: app.config[key] for key in keys}
    yield app.config.update
    app.config.update(saved)


def failing(make_jobs, **extra):
    return make_jobs({"handlerType": "demo.fail-until", "handlerConfiguration": {"failUntil": FAR_FUTURE},
                      **extra})[0]


def fail_once(client, job_id):
    """Run the job now (it fails) and return it afterwards with the moment it failed."""
    before = utcnow()
    assert client.post(f"/engine-rest/job/{job_id}/execute").status_code == 500
    return client.get(f"/engine-rest/job/{job_id}").get_json(), before


def due_in(job, before):
    return parse_date(job["dueDate"]) - before


def test_a_list_cycle_given_at_ingestion_sets_retries_and_due_dates(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE=None, FAILED_JOB_RETRY_CYCLE_BY_TYPE={})
    job = failing(make_jobs, failedJobRetryTimeCycle="PT1M,PT5M,PT10M")
    assert job["retries"] == 4  # 7.24: the cycle's count (intervals + 1)
    for expected_retries, minutes in ((3, 1), (2, 5), (1, 10), (0, 10)):
        job, before = fail_once(client, job["id"])
        assert job["retries"] == expected_retries
        assert timedelta(minutes=minutes) <= due_in(job, before) < timedelta(minutes=minutes, seconds=5)
    incidents = client.get("/engine-rest/incident", query_string={"jobDefinitionId": job["jobDefinitionId"]})
    assert len(incidents.get_json()) == 1


def test_the_per_type_setting_beats_the_global_one_and_the_job_beats_both(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE="R2/PT1M", FAILED_JOB_RETRY_CYCLE_BY_TYPE={"demo.fail-until": "R6/PT1H"})
    by_type = failing(make_jobs)
    own = failing(make_jobs, failedJobRetryTimeCycle="R4/PT30S")
    other_type = make_jobs({"handlerType": "test.unserved"})[0]
    assert (by_type["retries"], own["retries"], other_type["retries"]) == (6, 4, 2)
    job, before = fail_once(client, by_type["id"])
    assert job["retries"] == 5 and timedelta(hours=1) <= due_in(job, before) < timedelta(hours=1, seconds=5)
    job, before = fail_once(client, own["id"])
    assert job["retries"] == 3 and timedelta(seconds=30) <= due_in(job, before) < timedelta(seconds=35)


def test_explicit_retries_at_ingestion_are_replaced_by_the_count_at_the_first_failure(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE=None, FAILED_JOB_RETRY_CYCLE_BY_TYPE={})
    job = failing(make_jobs, retries=1, failedJobRetryTimeCycle="R5/PT5M")
    assert job["retries"] == 1
    job, _ = fail_once(client, job["id"])
    assert job["retries"] == 4  # Camunda: the first failure restarts at the cycle's count


def test_retries_set_after_a_failure_keep_counting_down_from_there(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE=None, FAILED_JOB_RETRY_CYCLE_BY_TYPE={})
    job = failing(make_jobs, failedJobRetryTimeCycle="PT3M, PT10M,PT8M")
    job, _ = fail_once(client, job["id"])
    assert job["retries"] == 3
    assert client.put(f"/engine-rest/job/{job['id']}/retries", json={"retries": 5}).status_code == 204
    for expected_retries, minutes in ((4, 3), (3, 3), (2, 10), (1, 8)):
        job, before = fail_once(client, job["id"])
        assert job["retries"] == expected_retries
        assert timedelta(minutes=minutes) <= due_in(job, before) < timedelta(minutes=minutes, seconds=5)


def test_legacy_mode_creates_jobs_with_the_default_retries(client, make_jobs, config):
    config(LEGACY_JOB_RETRY_BEHAVIOR_ENABLED=True, DEFAULT_JOB_RETRIES=3, FAILED_JOB_RETRY_TIME_CYCLE=None,
           FAILED_JOB_RETRY_CYCLE_BY_TYPE={})
    job = failing(make_jobs, failedJobRetryTimeCycle="R5/PT5M")
    assert job["retries"] == 3
    job, _ = fail_once(client, job["id"])
    assert job["retries"] == 4


def test_r0_starts_at_one_retry(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE=None, FAILED_JOB_RETRY_CYCLE_BY_TYPE={})
    job = failing(make_jobs, failedJobRetryTimeCycle="R0/PT5M")
    assert job["retries"] == 1
    job, _ = fail_once(client, job["id"])
    assert job["retries"] == 0


def test_without_a_cycle_the_due_date_stays(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE=None, FAILED_JOB_RETRY_CYCLE_BY_TYPE={}, JOB_RETRY_DELAY_SECONDS=0.0)
    job = failing(make_jobs)
    assert job["retries"] == 3
    job, _ = fail_once(client, job["id"])
    assert job["retries"] == 2 and job["dueDate"] is None


@pytest.mark.parametrize("cycle, fragment", [
    ("every minute", "is neither R<n>/<duration> nor a list of ISO 8601 durations"),
    ("PT1M,,PT2M", "'' is not an ISO 8601 duration"),
    ("${cycle}", "expressions are not supported"),
])
def test_an_unreadable_cycle_is_refused_at_ingestion(client, cycle, fragment):
    response = client.post("/api/jobs", json=[{"handlerType": "demo.noop", "failedJobRetryTimeCycle": cycle}])
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "InvalidRequestException"
    assert body["message"].startswith("jobs[0].failedJobRetryTimeCycle: ") and fragment in body["message"]


def test_a_malformed_setting_stops_the_start():
    with pytest.raises(ConfigurationError, match="FAILED_JOB_RETRY_TIME_CYCLE: 'soon'"):
        create_app("test", overrides={"FAILED_JOB_RETRY_TIME_CYCLE": "soon"})
    with pytest.raises(ConfigurationError, match=r"FAILED_JOB_RETRY_CYCLE_BY_TYPE\['mail'\]"):
        create_app("test", overrides={"FAILED_JOB_RETRY_CYCLE_BY_TYPE": {"mail": "R/"}})


def test_a_job_definitions_cycle_applies_to_its_jobs_below_the_jobs_own(client, make_jobs, config):
    config(FAILED_JOB_RETRY_TIME_CYCLE="R2/PT1M", FAILED_JOB_RETRY_CYCLE_BY_TYPE={"demo.fail-until": "R6/PT1H"})
    first = failing(make_jobs, processDefinitionKey="invoice", activityId="send")
    assert first["retries"] == 6  # the definition has no cycle yet: the handler type's
    definition = first["jobDefinitionId"]
    response = client.put(f"/api/job-definitions/{definition}/retry-time-cycle",
                          json={"failedJobRetryTimeCycle": "PT2M,PT4M"})
    assert response.status_code == 204
    later = failing(make_jobs, processDefinitionKey="invoice", activityId="send")
    own = failing(make_jobs, processDefinitionKey="invoice", activityId="send", failedJobRetryTimeCycle="R4/PT30S")
    assert later["jobDefinitionId"] == definition and (later["retries"], own["retries"]) == (3, 4)
    job, before = fail_once(client, later["id"])
    assert job["retries"] == 2 and timedelta(minutes=2) <= due_in(job, before) < timedelta(minutes=2, seconds=5)
    # The first job, created before, fails by the definition's cycle too (it is read at failure).
    job, before = fail_once(client, first["id"])
    assert job["retries"] == 2 and timedelta(minutes=2) <= due_in(job, before) < timedelta(minutes=2, seconds=5)
    # null removes it: the handler type's cycle applies again.
    assert client.put(f"/api/job-definitions/{definition}/retry-time-cycle",
                      json={"failedJobRetryTimeCycle": None}).status_code == 204
    assert failing(make_jobs, processDefinitionKey="invoice", activityId="send")["retries"] == 6


def test_setting_a_definitions_cycle_checks_the_cycle_and_the_definition(client, make_jobs):
    definition = make_jobs({})[0]["jobDefinitionId"]
    response = client.put(f"/api/job-definitions/{definition}/retry-time-cycle", json={"failedJobRetryTimeCycle": "x"})
    assert response.status_code == 400
    assert "'x' is neither R<n>/<duration> nor a list of ISO 8601 durations" in response.get_json()["message"]
    response = client.put(f"/api/job-definitions/{definition}/retry-time-cycle", json={})
    assert response.status_code == 400 and "failedJobRetryTimeCycle" in response.get_json()["message"]
    response = client.put("/api/job-definitions/nope/retry-time-cycle", json={"failedJobRetryTimeCycle": "PT1M"})
    assert response.status_code == 404
    assert response.get_json() == {"type": "InvalidRequestException",
                                   "message": "Job definition with id 'nope' does not exist.", "code": None}
