"""POST /job/{id}/duedate/recalculate (spec C.4, A18)."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.api.job_query_support import BASE, BASES, assert_error

CREATED = "2026-03-31T10:00:00.000+0000"


def timer(make_jobs, configuration, **extra):
    return make_jobs({"type": "timer", "handlerConfiguration": configuration, "createTime": CREATED,
                      "dueDate": "2030-01-01T00:00:00.000+0000", **extra})[0]


def recalculate(client, job_id, base=BASE, **params):
    return client.post(f"{base}/job/{job_id}/duedate/recalculate", query_string=params)


def get(client, job_id):
    return client.get(f"{BASE}/job/{job_id}").get_json()


@pytest.mark.parametrize("configuration, expected", [
    ({"timeDuration": "PT15M"}, "2026-03-31T10:15:00.000+0000"),
    ({"timeDuration": "P1DT2H30M"}, "2026-04-01T12:30:00.000+0000"),
    ({"timeDuration": "P2W"}, "2026-04-14T10:00:00.000+0000"),
    ({"timeDuration": "P1M"}, "2026-04-30T10:00:00.000+0000"),  # calendar month, day clamped
    ({"timeDuration": "PT0.5S"}, "2026-03-31T10:00:00.500+0000"),
    ({"timeCycle": "R/PT10M"}, "2026-03-31T10:10:00.000+0000"),
    ({"timeCycle": "R3/PT1H"}, "2026-03-31T11:00:00.000+0000"),
    ({"timeDate": "2027-05-05T12:00:00Z"}, "2027-05-05T12:00:00.000+0000"),
])
def test_creation_date_based_by_default(client, make_jobs, configuration, expected):
    job = timer(make_jobs, configuration, retries=2, priority=7, suspended=True)
    for base in BASES:
        response = recalculate(client, job["id"], base)
        assert response.status_code == 204
        assert response.get_data() == b""
        after = get(client, job["id"])
        assert after["dueDate"] == expected
        # Only the due date changes.
        assert {key: value for key, value in after.items() if key != "dueDate"} == \
            {key: value for key, value in job.items() if key != "dueDate"}


@pytest.mark.parametrize("value", ["false", "FALSE", "no", "0", ""])
def test_current_date_based_is_any_value_but_true(client, make_jobs, value):
    job = timer(make_jobs, {"timeDuration": "PT1H"})
    before = datetime.now(timezone.utc)
    assert recalculate(client, job["id"], creationDateBased=value).status_code == 204
    due = datetime.strptime(get(client, job["id"])["dueDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert before + timedelta(hours=1) - timedelta(seconds=1) <= due <= datetime.now(timezone.utc) + timedelta(hours=1)


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_creation_date_based_explicitly(client, make_jobs, value):
    job = timer(make_jobs, {"timeDuration": "PT1H"})
    assert recalculate(client, job["id"], creationDateBased=value).status_code == 204
    assert get(client, job["id"])["dueDate"] == "2026-03-31T11:00:00.000+0000"


def test_time_date_ignores_the_base(client, make_jobs):
    job = timer(make_jobs, {"timeDate": "2027-05-05T12:00:00.000+0200"})
    assert recalculate(client, job["id"], creationDateBased="false").status_code == 204
    assert get(client, job["id"])["dueDate"] == "2027-05-05T10:00:00.000+0000"


def test_unknown_job(client):
    assert_error(recalculate(client, "nope"), 404, "No job found with id 'nope'.")
    assert_error(recalculate(client, "a\x00b"), 404, "No job found with id 'a\x00b'.")


def test_a_message_job_is_refused(client, make_jobs):
    job = make_jobs({"handlerType": "demo.noop", "handlerConfiguration": {"timeDuration": "PT1M"}})[0]
    assert_error(recalculate(client, job["id"]), 400,
                 f"Only timer jobs can be recalculated, but the job with id '{job['id']}' is of type 'demo.noop'.")
    assert get(client, job["id"]) == job


def test_a_timer_without_definition_is_refused(client, make_jobs):
    job = timer(make_jobs, None)
    assert_error(recalculate(client, job["id"]), 400,
                 f"No timer declaration found for job id '{job['id']}'. A timer job that can be recalculated "
                 "carries one of timeDate, timeDuration, timeCycle in its handlerConfiguration.")
    assert get(client, job["id"])["dueDate"] == "2030-01-01T00:00:00.000+0000"


@pytest.mark.parametrize("configuration, reason", [
    ({"timeDuration": "10 minutes"}, "'10 minutes' is not an ISO 8601 duration such as PT10M or P1DT12H"),
    ({"timeDuration": "P"}, "'P' is not an ISO 8601 duration such as PT10M or P1DT12H"),
    ({"timeDuration": "PT"}, "'PT' is not an ISO 8601 duration such as PT10M or P1DT12H"),
    ({"timeDuration": 5}, "'5' is not an ISO 8601 duration such as PT10M or P1DT12H"),
    ({"timeDuration": "P99999Y"}, "'P99999Y' leads past the year 9999"),
    ({"timeDate": "tomorrow"}, "'tomorrow' is not a date"),
    ({"timeCycle": "0 0/5 * * * ?"},
     "'0 0/5 * * * ?' is not a cycle this service resolves: R/<duration> or R<n>/<duration>, e.g. R3/PT10M"),
    ({"timeDate": "2027-01-01T00:00:00Z", "timeDuration": "PT1M"},
     "a timer has one of timeDate, timeDuration, timeCycle, not timeDate and timeDuration"),
])
def test_a_definition_that_does_not_resolve_is_refused(client, make_jobs, configuration, reason):
    job = timer(make_jobs, configuration, activityId="Timer_1")
    assert_error(recalculate(client, job["id"]), 400,
                 f"Timer 'Timer_1' was not configured with a valid duration/time: {reason}")
    assert get(client, job["id"])["dueDate"] == "2030-01-01T00:00:00.000+0000"


def test_a_due_timer_wakes_the_executor(client, make_jobs, dispatched):
    job = timer(make_jobs, {"timeDuration": "PT1S"})
    dispatched.clear()
    assert recalculate(client, job["id"]).status_code == 204
    assert dispatched.names(), "a timer due now should wake the executor"
    later = timer(make_jobs, {"timeDuration": "P100Y"})
    dispatched.clear()
    assert recalculate(client, later["id"]).status_code == 204
    assert dispatched.names() == []


def test_other_methods_are_405(client, make_jobs):
    job = timer(make_jobs, {"timeDuration": "PT1M"})
    assert client.get(f"{BASE}/job/{job['id']}/duedate/recalculate").status_code == 405
