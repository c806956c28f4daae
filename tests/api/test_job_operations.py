"""Synchronous job operations over HTTP (spec B.3.5, B.5.12, B.6.2 and our decisions).

PUT /job/{id}/retries, /duedate, /priority, /suspended; PUT /job/suspended;
POST /job/{id}/execute; GET /job/{id}/stacktrace; DELETE /job/{id}; PUT /job-definition/{id}/retries.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.dates import utcnow
from app.extensions import db
from app.models import Incident, Job
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job
from app.services.jobs import commands as operations
from tests.support import job_incidents as incident_rows
from tests.support import set_job_columns as set_columns

BASE = "/engine-rest"
job_table = Job.__table__
incident_table = Incident.__table__


# --- helpers -------------------------------------------------------------------------------

def job_row(app, job_id):
    with app.app_context():
        row = db.session.execute(select(job_table).where(job_table.c.id == job_id)).mappings().first()
        db.session.remove()
        return dict(row) if row else None


def acquirable_ids(app):
    """What a worker would acquire now (and does: the jobs end up locked)."""
    with app.app_context():
        acquired = acquire_jobs(limit=100)
        db.session.remove()
    return sorted(job_id for job_id, _, _ in acquired)


def assert_error(response, status, message=None, type_="InvalidRequestException", contains=None):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["type"] == type_, body
    if message is not None:
        assert body["message"] == message
    if contains is not None:
        assert contains in body["message"], body["message"]
    assert "code" in body
    return body


def fail_until_job(make_jobs, message="boom", **extra):
    return make_jobs({"handlerType": "demo.fail-until", "handlerConfiguration": {"message": message},
                      "activityId": "serviceTask", **extra})[0]


# --- PUT /job/{id}/retries -----------------------------------------------------------------

def test_set_retries_updates_the_job_and_keeps_the_due_date_when_absent(client, make_jobs, app):
    job = make_jobs({"retries": 1, "dueDate": "2030-01-01T00:00:00.000+0000"})[0]
    response = client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 5})
    assert response.status_code == 204 and response.data == b""
    after = client.get(f"{BASE}/job/{job['id']}").get_json()
    assert after["retries"] == 5
    assert after["dueDate"] == "2030-01-01T00:00:00.000+0000"
    assert job_row(app, job["id"])["revision"] == 2


def test_set_retries_with_due_date_value_and_null(client, make_jobs):
    job = make_jobs({"dueDate": "2030-01-01T00:00:00.000+0000"})[0]
    url = f"{BASE}/job/{job['id']}/retries"
    assert client.put(url, json={"retries": 2, "dueDate": "2031-02-03T04:05:06.789+0100"}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] == "2031-02-03T03:05:06.789+0000"
    assert client.put(url, json={"retries": 2, "dueDate": None}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] is None


def test_set_retries_from_zero_resolves_the_incident_and_wakes_the_executor(client, make_jobs, app, dispatched):
    job = make_jobs({"retries": 0, "exceptionMessage": "kaput"})[0]
    assert len(incident_rows(app, job["id"])) == 1
    dispatched.clear()
    assert client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 1}).status_code == 204
    assert incident_rows(app, job["id"]) == []
    after = client.get(f"{BASE}/job/{job['id']}").get_json()
    assert after["retries"] == 1 and after["exceptionMessage"] == "kaput"
    assert dispatched.names() == ["executor.acquire"]


def test_set_retries_to_zero_creates_one_incident(client, make_jobs, app):
    job = make_jobs({"retries": 2, "exceptionMessage": "earlier failure"})[0]
    url = f"{BASE}/job/{job['id']}/retries"
    assert client.put(url, json={"retries": 0}).status_code == 204
    assert client.put(url, json={"retries": 0}).status_code == 204
    listed = client.get(f"{BASE}/incident", query_string={"configuration": job["id"]}).get_json()
    assert len(listed) == 1
    assert listed[0]["incidentType"] == "failedJob"
    assert listed[0]["incidentMessage"] == "earlier failure"
    assert listed[0]["jobDefinitionId"] == job["jobDefinitionId"]


def test_set_retries_clears_an_inconsistent_lock(client, make_jobs, app):
    job = make_jobs({"retries": 2})[0]
    set_columns(app, job["id"], lock_owner="ghost", lock_expiration_time=None)
    assert client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 3}).status_code == 204
    row = job_row(app, job["id"])
    assert row["lock_owner"] is None and row["retries"] == 3


def test_set_retries_works_under_the_named_engine_path(client, make_jobs):
    job = make_jobs({})[0]
    response = client.put(f"{BASE}/engine/default/job/{job['id']}/retries", json={"retries": 9})
    assert response.status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["retries"] == 9


def test_set_retries_unknown_job_is_404(client):
    assert_error(client.put(f"{BASE}/job/nope/retries", json={"retries": 1}), 404,
                 "No job found with id 'nope'.")


@pytest.mark.parametrize("body, message", [
    ({"retries": -3}, "The number of job retries must be a non-negative Integer, but '-3' has been provided."),
    ({}, "retries is null"),
    ({"retries": None}, "retries is null"),
    ({"dueDate": None}, "retries is null"),
])
def test_set_retries_validation_messages(client, make_jobs, body, message):
    job = make_jobs({})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/retries", json=body), 400, message)
    # validation happens before the lookup: the same 400 for an unknown id
    assert_error(client.put(f"{BASE}/job/unknown/retries", json=body), 400, message)


@pytest.mark.parametrize("body, fragment", [
    ({"retries": "abc"}, "retries must be an integer"),
    ({"retries": True}, "retries must be an integer"),
    ({"retries": 1.5}, "retries must be an integer"),
    ({"retries": [1]}, "retries must be an integer"),
    ({"retries": 2**31}, "retries must be between"),
    ({"retries": 1, "dueDate": "tomorrow"}, "Invalid due date format"),
    ({"retries": 1, "dueDate": "2024-02-30T00:00:00.000+0000"}, "Invalid due date format"),
    ({"retries": 1, "dueDate": True}, "Invalid due date format"),
])
def test_set_retries_wrong_types_are_400_naming_the_field(client, make_jobs, app, body, fragment):
    job = make_jobs({"retries": 3})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/retries", json=body), 400, contains=fragment)
    assert job_row(app, job["id"])["revision"] == 1


def test_set_retries_accepts_a_numeric_string_like_jackson(client, make_jobs):
    job = make_jobs({})[0]
    assert client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": "4"}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["retries"] == 4


def test_set_retries_malformed_json_and_non_object_bodies(client, make_jobs):
    job = make_jobs({})[0]
    url = f"{BASE}/job/{job['id']}/retries"
    assert_error(client.put(url, data="{retries: ", content_type="application/json"), 400,
                 contains="not valid JSON")
    assert_error(client.put(url, json=[1, 2]), 400, contains="JSON object")
    assert_error(client.put(url, data="", content_type="application/json"), 400, "retries is null")


# --- PUT /job/{id}/duedate -----------------------------------------------------------------

def test_set_duedate_value_then_null(client, make_jobs, app, dispatched):
    job = make_jobs({})[0]
    url = f"{BASE}/job/{job['id']}/duedate"
    dispatched.clear()
    assert client.put(url, json={"duedate": "2040-06-07T08:09:10.111+0000", "cascade": False}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] == "2040-06-07T08:09:10.111+0000"
    assert job_row(app, job["id"])["revision"] == 2
    assert dispatched.names() == []  # a future due date makes nothing executable
    assert client.put(url, json={"duedate": None, "cascade": True}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] is None
    assert dispatched.names() == ["executor.acquire"]


def test_set_duedate_accepts_epoch_millis_and_missing_cascade(client, make_jobs):
    job = make_jobs({})[0]
    assert client.put(f"{BASE}/job/{job['id']}/duedate", json={"duedate": 0}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] == "1970-01-01T00:00:00.000+0000"


def test_set_duedate_future_keeps_the_job_from_being_acquired(client, make_jobs, app):
    job = make_jobs({})[0]
    client.put(f"{BASE}/job/{job['id']}/duedate", json={"duedate": "2099-01-01T00:00:00.000+0000"})
    assert acquirable_ids(app) == []


def test_set_duedate_unknown_job_is_404(client):
    assert_error(client.put(f"{BASE}/job/nope/duedate", json={"duedate": None}), 404,
                 "No job found with id 'nope'.")


@pytest.mark.parametrize("body, fragment", [
    ({"duedate": "not a date"}, "Invalid due date format"),
    ({"duedate": None, "cascade": "yes"}, "cascade must be true or false"),
    ([], "JSON object"),
])
def test_set_duedate_validation(client, make_jobs, app, body, fragment):
    job = make_jobs({})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/duedate", json=body), 400, contains=fragment)
    assert job_row(app, job["id"])["revision"] == 1


def test_set_duedate_without_body_is_400(client, make_jobs):
    job = make_jobs({})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/duedate"), 400, contains="JSON object")


# --- PUT /job/{id}/priority ----------------------------------------------------------------

@pytest.mark.parametrize("priority", [10, -5, 2**63 - 1, "42"])
def test_set_priority(client, make_jobs, app, priority):
    job = make_jobs({})[0]
    assert client.put(f"{BASE}/job/{job['id']}/priority", json={"priority": priority}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["priority"] == int(priority)
    assert job_row(app, job["id"])["revision"] == 2


def test_set_priority_changes_acquisition_order(client, make_jobs, app):
    low, high = make_jobs({"priority": 5}, {"priority": 1})
    client.put(f"{BASE}/job/{high['id']}/priority", json={"priority": 50})
    with app.app_context():
        acquired = acquire_jobs(limit=1)
        db.session.remove()
    assert [job_id for job_id, _, _ in acquired] == [high["id"]]


@pytest.mark.parametrize("body", [{"priority": None}, {}])
def test_set_null_priority_is_a_rest_exception(client, make_jobs, body):
    job = make_jobs({})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/priority", json=body), 400,
                 f"Priority for job '{job['id']}' cannot be null.", type_="RestException")


@pytest.mark.parametrize("value, fragment", [
    ("high", "priority must be an integer"),
    (True, "priority must be an integer"),
    (2**63, "priority must be between"),
    (0.5, "priority must be an integer"),
])
def test_set_priority_wrong_values(client, make_jobs, value, fragment):
    job = make_jobs({})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/priority", json={"priority": value}), 400, contains=fragment)


def test_set_priority_unknown_job_is_404(client):
    assert_error(client.put(f"{BASE}/job/nope/priority", json={"priority": 1}), 404, "No job found with id 'nope'.")


# --- PUT /job/{id}/suspended ---------------------------------------------------------------

def test_suspend_and_activate_a_job(client, make_jobs, app, dispatched):
    job = make_jobs({})[0]
    url = f"{BASE}/job/{job['id']}/suspended"
    dispatched.clear()
    assert client.put(url, json={"suspended": True}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["suspended"] is True
    assert dispatched.names() == []
    assert acquirable_ids(app) == []

    assert client.put(url, json={"suspended": False}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["suspended"] is False
    assert dispatched.names() == ["executor.acquire"]
    assert acquirable_ids(app) == [job["id"]]


def test_setting_the_same_suspension_state_changes_nothing(client, make_jobs, app, dispatched):
    job = make_jobs({})[0]
    url = f"{BASE}/job/{job['id']}/suspended"
    client.put(url, json={"suspended": True})
    assert client.put(url, json={"suspended": True}).status_code == 204
    assert job_row(app, job["id"])["revision"] == 2
    dispatched.clear()
    client.put(url, json={"suspended": False})
    assert client.put(url, json={"suspended": False}).status_code == 204
    assert job_row(app, job["id"])["revision"] == 3
    assert dispatched.names() == ["executor.acquire"]


def test_suspend_unknown_job_is_404(client):
    assert_error(client.put(f"{BASE}/job/nope/suspended", json={"suspended": True}), 404,
                 "No job found with id 'nope'.")


@pytest.mark.parametrize("body, fragment", [
    ({}, "suspended is null"),
    ({"suspended": None}, "suspended is null"),
    ({"suspended": "true"}, "suspended must be true or false"),
    ({"suspended": 1}, "suspended must be true or false"),
])
def test_suspend_validation(client, make_jobs, app, body, fragment):
    job = make_jobs({})[0]
    assert_error(client.put(f"{BASE}/job/{job['id']}/suspended", json=body), 400, contains=fragment)
    assert job_row(app, job["id"])["suspended"] is False


# --- PUT /job/suspended --------------------------------------------------------------------

@pytest.fixture
def population(make_jobs):
    """Jobs of two process instances, two definitions, two tenants."""
    jobs = make_jobs(
        {"processInstanceId": "pi-1", "processDefinitionId": "pd-1", "processDefinitionKey": "invoice",
         "activityId": "a", "tenantId": "t1"},
        {"processInstanceId": "pi-1", "processDefinitionId": "pd-1", "processDefinitionKey": "invoice",
         "activityId": "b", "tenantId": "t1"},
        {"processInstanceId": "pi-2", "processDefinitionId": "pd-2", "processDefinitionKey": "invoice",
         "activityId": "a", "tenantId": "t2"},
        {"processInstanceId": "pi-3", "processDefinitionId": "pd-3", "processDefinitionKey": "invoice",
         "activityId": "a"},
        {"processInstanceId": "pi-4", "processDefinitionId": "pd-4", "processDefinitionKey": "order",
         "activityId": "a"},
    )
    return jobs


def suspended_ids(client):
    return sorted(job["id"] for job in client.get(f"{BASE}/job", query_string={"suspended": "true"}).get_json())


@pytest.mark.parametrize("selector, value, expected", [
    ("processInstanceId", "pi-1", [0, 1]),
    ("processDefinitionId", "pd-2", [2]),
    ("processDefinitionKey", "invoice", [0, 1, 2, 3]),
])
def test_suspend_by_selector(client, population, selector, value, expected):
    response = client.put(f"{BASE}/job/suspended", json={selector: value, "suspended": True})
    assert response.status_code == 204
    assert suspended_ids(client) == sorted(population[i]["id"] for i in expected)


def test_suspend_by_job_definition_sets_only_the_jobs(client, population, app, dispatched):
    definition = population[0]["jobDefinitionId"]
    same_definition = sorted(job["id"] for job in population if job["jobDefinitionId"] == definition)
    assert client.put(f"{BASE}/job/suspended",
                      json={"jobDefinitionId": definition, "suspended": True}).status_code == 204
    assert suspended_ids(client) == same_definition
    listed = client.get(f"{BASE}/job-definition", query_string={"jobDefinitionId": definition}).get_json()
    assert listed[0]["suspended"] is False
    dispatched.clear()
    assert client.put(f"{BASE}/job/suspended",
                      json={"jobDefinitionId": definition, "suspended": False}).status_code == 204
    assert suspended_ids(client) == []
    assert dispatched.names() == ["executor.acquire"]


def test_suspend_by_key_and_tenant(client, population):
    client.put(f"{BASE}/job/suspended",
               json={"processDefinitionKey": "invoice", "processDefinitionTenantId": "t2", "suspended": True})
    assert suspended_ids(client) == [population[2]["id"]]


def test_suspend_by_key_without_tenant(client, population):
    client.put(f"{BASE}/job/suspended",
               json={"processDefinitionKey": "invoice", "processDefinitionWithoutTenantId": True,
                     "suspended": True})
    assert suspended_ids(client) == [population[3]["id"]]


def test_tenant_options_do_not_refine_other_selectors(client, population):
    client.put(f"{BASE}/job/suspended",
               json={"processInstanceId": "pi-1", "processDefinitionTenantId": "t2", "suspended": True})
    assert suspended_ids(client) == sorted([population[0]["id"], population[1]["id"]])


def test_suspend_by_selector_without_matches_is_a_no_op(client, population, dispatched):
    dispatched.clear()
    response = client.put(f"{BASE}/job/suspended", json={"processInstanceId": "none", "suspended": False})
    assert response.status_code == 204
    assert dispatched.names() == []
    assert suspended_ids(client) == []


ONLY_ONE = ("Only one of jobId, jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey "
            "should be set to update the suspension state.")
NONE_SET = ("Either jobId, jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey "
            "should be set to update the suspension state.")
JOB_ID_SET = ("Either jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey can be set "
              "to update the suspension state.")


@pytest.mark.parametrize("body, message", [
    ({"jobId": "x", "suspended": True}, JOB_ID_SET),
    ({"jobId": "x", "processInstanceId": "pi-1", "suspended": True}, JOB_ID_SET),
    ({"suspended": True}, NONE_SET),
    ({"processInstanceId": "pi-1", "processDefinitionId": "pd-1", "suspended": True}, ONLY_ONE),
    ({"processDefinitionKey": "invoice", "jobDefinitionId": "d", "suspended": False}, ONLY_ONE),
    ({"processInstanceId": "pi-1"}, "suspended is null; send true to suspend or false to activate"),
])
def test_suspend_by_selector_messages(client, population, body, message):
    assert_error(client.put(f"{BASE}/job/suspended", json=body), 400, message)
    assert suspended_ids(client) == []


@pytest.mark.parametrize("body, fragment", [
    ({"processInstanceId": 5, "suspended": True}, "processInstanceId must be a string"),
    ({"processDefinitionKey": "invoice", "processDefinitionWithoutTenantId": "yes", "suspended": True},
     "processDefinitionWithoutTenantId must be true or false"),
    ({"processInstanceId": "pi-1", "suspended": "false"}, "suspended must be true or false"),
    ("suspend", "JSON object"),
])
def test_suspend_by_selector_wrong_types(client, population, body, fragment):
    assert_error(client.put(f"{BASE}/job/suspended", json=body), 400, contains=fragment)


# --- POST /job/{id}/execute ----------------------------------------------------------------

def test_execute_noop_job_deletes_it(client, make_jobs, app):
    job = make_jobs({})[0]
    response = client.post(f"{BASE}/job/{job['id']}/execute")
    assert response.status_code == 204 and response.data == b""
    assert_error(client.get(f"{BASE}/job/{job['id']}"), 404)
    assert job_row(app, job["id"]) is None


def test_execute_a_previously_failed_job_removes_its_incident(client, make_jobs, app):
    job = make_jobs({"retries": 0})[0]
    assert len(incident_rows(app, job["id"])) == 1
    assert client.post(f"{BASE}/job/{job['id']}/execute").status_code == 204
    assert incident_rows(app, job["id"]) == []
    assert client.get(f"{BASE}/incident/count").get_json() == {"count": 0}


def test_execute_failing_job_records_the_failure_and_answers_500(client, make_jobs, app, dispatched):
    job = fail_until_job(make_jobs, "the printer is on fire")
    dispatched.clear()
    response = client.post(f"{BASE}/job/{job['id']}/execute")
    assert response.status_code == 500
    assert response.get_json() == {"type": "RestException", "message": "the printer is on fire", "code": None}

    after = client.get(f"{BASE}/job/{job['id']}").get_json()
    assert after["retries"] == 2
    assert after["exceptionMessage"] == "the printer is on fire"
    assert after["failedActivityId"] == "serviceTask"
    row = job_row(app, job["id"])
    assert row["lock_owner"] is None and row["lock_expiration_time"] is None
    trace = client.get(f"{BASE}/job/{job['id']}/stacktrace")
    assert trace.status_code == 200
    assert trace.mimetype == "text/plain"
    assert "RuntimeError: the printer is on fire" in trace.get_data(as_text=True)
    assert dispatched.names() == ["executor.acquire"]  # retries left: the executor may retry it
    assert incident_rows(app, job["id"]) == []


def test_execute_until_no_retries_then_reset_resolves_the_incident(client, make_jobs, app):
    job = fail_until_job(make_jobs, "still failing")
    for expected in (2, 1, 0):
        assert client.post(f"{BASE}/job/{job['id']}/execute").status_code == 500
        assert client.get(f"{BASE}/job/{job['id']}").get_json()["retries"] == expected

    listed = client.get(f"{BASE}/incident").get_json()
    assert len(listed) == 1
    incident = listed[0]
    assert incident["configuration"] == job["id"]
    assert incident["incidentType"] == "failedJob"
    assert incident["incidentMessage"] == "still failing"
    assert incident["activityId"] == "serviceTask"
    assert incident["failedActivityId"] == "serviceTask"
    assert incident["jobDefinitionId"] == job["jobDefinitionId"]
    assert client.get(f"{BASE}/incident/count", query_string={"incidentType": "failedJob"}).get_json() == {"count": 1}

    assert client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 1}).status_code == 204
    assert client.get(f"{BASE}/incident").get_json() == []
    after = client.get(f"{BASE}/job/{job['id']}").get_json()
    assert after["retries"] == 1 and after["exceptionMessage"] == "still failing"


def test_execute_at_zero_retries_runs_and_keeps_one_incident(client, make_jobs, app):
    job = fail_until_job(make_jobs, "again", retries=0)
    assert client.post(f"{BASE}/job/{job['id']}/execute").status_code == 500
    row = job_row(app, job["id"])
    assert row["retries"] == 0 and row["exception_message"] == "again" and row["lock_owner"] is None
    assert len(incident_rows(app, job["id"])) == 1


def test_execute_unknown_job_is_404(client):
    assert_error(client.post(f"{BASE}/job/nope/execute"), 404, "Job with id nope does not exist")


def test_execute_job_locked_by_a_worker_is_409_and_leaves_it_alone(client, make_jobs, app):
    job = make_jobs({})[0]
    set_columns(app, job["id"], lock_owner="host:1:abc", lock_expiration_time=utcnow() + timedelta(minutes=5),
                revision=7)
    body = assert_error(client.post(f"{BASE}/job/{job['id']}/execute"), 409, type_="RestException",
                        contains="is being executed by host:1:abc")
    assert "Try again later" in body["message"]
    row = job_row(app, job["id"])
    assert row["revision"] == 7 and row["lock_owner"] == "host:1:abc"


def test_execute_takes_over_an_expired_lock_and_the_old_holder_does_nothing(client, make_jobs, app):
    job = make_jobs({})[0]
    set_columns(app, job["id"], lock_owner="dead-worker", lock_expiration_time=utcnow() - timedelta(seconds=1))
    stale_revision = job_row(app, job["id"])["revision"]
    assert client.post(f"{BASE}/job/{job['id']}/execute").status_code == 204
    with app.app_context():
        assert execute_job(job["id"], "dead-worker", stale_revision) == "skipped"
        db.session.remove()


def test_execute_unregistered_handler_type_is_400(client, make_jobs, app):
    job = make_jobs({"handlerType": "billing.not-here"})[0]
    assert_error(client.post(f"{BASE}/job/{job['id']}/execute"), 400,
                 contains="handler type 'billing.not-here', which no handler registered in this process serves")
    row = job_row(app, job["id"])
    assert row["lock_owner"] is None and row["revision"] == 1 and row["retries"] == 3


def test_execute_runs_suspended_and_future_jobs_on_request(client, make_jobs, app):
    suspended, future = make_jobs({"suspended": True}, {"dueDate": "2099-01-01T00:00:00.000+0000"})
    assert client.post(f"{BASE}/job/{suspended['id']}/execute").status_code == 204
    assert client.post(f"{BASE}/job/{future['id']}/execute").status_code == 204
    assert job_row(app, suspended["id"]) is None and job_row(app, future["id"]) is None


def test_execute_batch_execution_job_through_the_executor_path(client, make_jobs, app):
    """A batch's seed job run on request creates its execution jobs as a worker would."""
    targets = make_jobs({"retries": 0}, {"retries": 0})
    batch = client.post(f"{BASE}/job/retries",
                        json={"jobIds": [job["id"] for job in targets], "retries": 4}).get_json()
    seed = client.get(f"{BASE}/job", query_string={"jobDefinitionId": batch["seedJobDefinitionId"]}).get_json()
    assert client.post(f"{BASE}/job/{seed[0]['id']}/execute").status_code == 204
    executions = client.get(f"{BASE}/job",
                            query_string={"jobDefinitionId": batch["batchJobDefinitionId"]}).get_json()
    assert executions
    for execution in executions:
        assert client.post(f"{BASE}/job/{execution['id']}/execute").status_code == 204
    for job in targets:
        assert client.get(f"{BASE}/job/{job['id']}").get_json()["retries"] == 4
    assert client.get(f"{BASE}/incident/count").get_json() == {"count": 0}


# --- GET /job/{id}/stacktrace --------------------------------------------------------------

def test_stacktrace_of_an_ingested_job_is_returned_verbatim(client, make_jobs):
    job = make_jobs({"exceptionStacktrace": "java.lang.IllegalStateException: nope\n\tat X.y(X.java:1)"})[0]
    response = client.get(f"{BASE}/job/{job['id']}/stacktrace")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert response.get_data(as_text=True) == "java.lang.IllegalStateException: nope\n\tat X.y(X.java:1)"


def test_stacktrace_unknown_job_and_job_without_stacktrace(client, make_jobs):
    job = make_jobs({})[0]
    assert_error(client.get(f"{BASE}/job/nope/stacktrace"), 404, "Job with id nope does not exist")
    assert_error(client.get(f"{BASE}/job/{job['id']}/stacktrace"), 404, f"Job with id {job['id']} has no stacktrace")


# --- DELETE /job/{id} ----------------------------------------------------------------------

def test_delete_job_and_its_incident(client, make_jobs, app):
    job, other = make_jobs({"retries": 0}, {"retries": 0})
    assert client.delete(f"{BASE}/job/{job['id']}").status_code == 204
    assert job_row(app, job["id"]) is None
    assert incident_rows(app, job["id"]) == []
    assert len(incident_rows(app, other["id"])) == 1
    assert client.get(f"{BASE}/job/count").get_json() == {"count": 1}


def test_delete_unknown_job_is_404(client):
    assert_error(client.delete(f"{BASE}/job/nope"), 404, "Job with id nope does not exist")


def test_delete_job_held_by_a_worker_is_409(client, make_jobs, app):
    job = make_jobs({})[0]
    set_columns(app, job["id"], lock_owner="w", lock_expiration_time=utcnow() + timedelta(minutes=1))
    assert_error(client.delete(f"{BASE}/job/{job['id']}"), 409, type_="RestException",
                 contains="cannot be deleted now")
    assert job_row(app, job["id"]) is not None


def test_delete_job_with_expired_lock(client, make_jobs, app):
    job = make_jobs({})[0]
    set_columns(app, job["id"], lock_owner="w", lock_expiration_time=utcnow() - timedelta(minutes=1))
    assert client.delete(f"{BASE}/job/{job['id']}").status_code == 204
    assert job_row(app, job["id"]) is None


# --- PUT /job-definition/{id}/retries ------------------------------------------------------

def test_job_definition_retries_touch_only_failed_jobs(client, make_jobs, app, dispatched):
    failed, failed_locked, healthy = make_jobs(
        {"retries": 0, "exceptionMessage": "x"}, {"retries": 0}, {"retries": 2},
        processDefinitionKey="p", activityId="a")
    other = make_jobs({"retries": 0, "processDefinitionKey": "p", "activityId": "other"})[0]
    definition = failed["jobDefinitionId"]
    assert failed_locked["jobDefinitionId"] == definition == healthy["jobDefinitionId"]
    set_columns(app, failed_locked["id"], lock_owner="w", lock_expiration_time=utcnow() + timedelta(minutes=1))
    dispatched.clear()

    response = client.put(f"{BASE}/job-definition/{definition}/retries",
                          json={"retries": 5, "dueDate": "2030-01-01T00:00:00.000+0000"})
    assert response.status_code == 204

    for job in (failed, failed_locked):
        row = job_row(app, job["id"])
        assert row["retries"] == 5 and row["lock_owner"] is None and row["lock_expiration_time"] is None
        assert row["revision"] == 2
        assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] == "2030-01-01T00:00:00.000+0000"
        assert incident_rows(app, job["id"]) == []
    assert job_row(app, failed["id"])["exception_message"] == "x"
    untouched = job_row(app, healthy["id"])
    assert untouched["retries"] == 2 and untouched["revision"] == 1 and untouched["due_date"] is None
    assert job_row(app, other["id"])["retries"] == 0
    assert len(incident_rows(app, other["id"])) == 1
    assert dispatched.names() == ["executor.acquire"]


def test_job_definition_retries_without_due_date_keep_it(client, make_jobs):
    job = make_jobs({"retries": 0, "dueDate": "2030-01-01T00:00:00.000+0000"})[0]
    assert client.put(f"{BASE}/job-definition/{job['jobDefinitionId']}/retries", json={"retries": 1}).status_code == 204
    after = client.get(f"{BASE}/job/{job['id']}").get_json()
    assert after["retries"] == 1 and after["dueDate"] == "2030-01-01T00:00:00.000+0000"


def test_job_definition_retries_unknown_definition_is_a_no_op(client, dispatched):
    assert client.put(f"{BASE}/job-definition/nope/retries", json={"retries": 1}).status_code == 204
    assert dispatched.names() == []


@pytest.mark.parametrize("body, message", [
    ({"retries": -1}, "The number of job retries must be a non-negative Integer, but '-1' has been provided."),
    ({"retries": None}, "retries is null"),
    ({}, "retries is null"),
])
def test_job_definition_retries_validation(client, make_jobs, app, body, message):
    job = make_jobs({"retries": 0})[0]
    assert_error(client.put(f"{BASE}/job-definition/{job['jobDefinitionId']}/retries", json=body), 400, message)
    assert job_row(app, job["id"])["retries"] == 0


def test_job_definition_retries_wrong_type(client):
    assert_error(client.put(f"{BASE}/job-definition/d/retries", json={"retries": "many"}), 400,
                 contains="retries must be an integer")


# --- optimistic read-modify-write ----------------------------------------------------------

@pytest.fixture
def concurrent_writer(app, monkeypatch):
    """Bump a job's revision from another connection right after the service has read it,
    ``times`` times: what a worker or another request changing the job in between looks like."""
    original = operations._is_locked
    state = {"left": 0, "job_id": None, "bumped": 0}

    def interfering(row, now):
        if state["left"] > 0:
            state["left"] -= 1
            state["bumped"] += 1
            with db.engine.begin() as connection:
                connection.execute(update(job_table).where(job_table.c.id == state["job_id"])
                                   .values(revision=job_table.c.revision + 1))
        return original(row, now)

    monkeypatch.setattr(operations, "_is_locked", interfering)

    def arm(job_id, times):
        state.update(job_id=job_id, left=times)
        return state

    return arm


@pytest.mark.parametrize("method, path", [("post", "/execute"), ("delete", "")])
def test_a_concurrent_change_between_read_and_write_is_retried(client, make_jobs, app, concurrent_writer,
                                                               method, path):
    job = make_jobs({})[0]
    state = concurrent_writer(job["id"], 2)
    response = getattr(client, method)(f"{BASE}/job/{job['id']}{path}")
    assert response.status_code == 204, response.get_json()
    assert state["bumped"] == 2
    assert job_row(app, job["id"]) is None


@pytest.mark.parametrize("method, path", [("post", "/execute"), ("delete", "")])
def test_a_job_that_keeps_changing_gives_up_with_409(client, make_jobs, app, concurrent_writer, method, path):
    job = make_jobs({})[0]
    concurrent_writer(job["id"], 100)
    assert_error(getattr(client, method)(f"{BASE}/job/{job['id']}{path}"), 409, type_="RestException",
                 contains="is being changed concurrently")
    row = job_row(app, job["id"])
    assert row is not None and row["lock_owner"] is None


# --- ids no database can store: never a 500 ------------------------------------------------

@pytest.mark.parametrize("method, path, body, status, message", [
    ("put", "/job/a%00b/retries", {"retries": 1}, 404, "No job found with id 'a\x00b'."),
    ("put", "/job/a%00b/duedate", {"duedate": None}, 404, "No job found with id 'a\x00b'."),
    ("put", "/job/a%00b/priority", {"priority": 1}, 404, "No job found with id 'a\x00b'."),
    ("put", "/job/a%00b/suspended", {"suspended": True}, 404, "No job found with id 'a\x00b'."),
    ("post", "/job/a%00b/execute", None, 404, "Job with id a\x00b does not exist"),
    ("get", "/job/a%00b/stacktrace", None, 404, "Job with id a\x00b does not exist"),
    ("delete", "/job/a%00b", None, 404, "Job with id a\x00b does not exist"),
    ("put", "/job/suspended", {"processInstanceId": "a\x00", "suspended": True}, 400,
     "processInstanceId must not contain NUL characters or lone surrogates"),
    ("put", "/job/suspended", {"jobDefinitionId": "\ud800", "suspended": True}, 400,
     "jobDefinitionId must not contain NUL characters or lone surrogates"),
])
def test_unstorable_text_is_a_client_error(client, method, path, body, status, message):
    call = getattr(client, method)
    response = call(f"{BASE}{path}", json=body) if body is not None else call(f"{BASE}{path}")
    assert_error(response, status, message)


def test_unstorable_job_definition_id_is_a_no_op(client):
    assert client.put(f"{BASE}/job-definition/a%00b/retries", json={"retries": 1}).status_code == 204
