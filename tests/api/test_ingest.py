"""``POST /api/jobs``: our ingestion extension (1..10000 jobs, all or nothing, 400 names jobs[i].field)."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.dates import format_date, parse_date, utcnow
from app.extensions import db
from app.models import Job, JobDefinition, JobStacktrace
from app.models.incident import Incident
from tests.api.job_query_support import BASE, LONG_MAX, assert_error, assert_error_shape, assert_job_dto

URL = "/api/jobs"
DATE_HINT = "Not a valid date; use yyyy-MM-dd'T'HH:mm:ss.SSSZ, e.g. 2024-01-31T13:45:00.000+0000."


def job_rows():
    return {row.id: row for row in db.session.execute(select(Job.__table__)).all()}


def definition_rows():
    return db.session.execute(select(JobDefinition.__table__).order_by(JobDefinition.__table__.c.id)).all()


def incident_rows():
    return db.session.execute(select(Incident.__table__)).all()


def count(table):
    return db.session.execute(select(func.count()).select_from(table)).scalar_one()


def nothing_stored():
    return count(Job.__table__) == 0 and count(JobDefinition.__table__) == 0 and count(Incident.__table__) == 0


def test_defaults(client, app_context):
    before = utcnow()
    response = client.post(URL, json=[{"handlerType": "demo.noop"}])
    after = utcnow()
    assert response.status_code == 201
    [job] = response.get_json()
    assert_job_dto(job)
    assert uuid.UUID(job["id"]).version == 4 and str(uuid.UUID(job["id"])) == job["id"]
    assert job["retries"] == 3
    assert job["priority"] == 0
    assert job["suspended"] is False
    assert job["dueDate"] is None and job["tenantId"] is None and job["batchId"] is None
    assert job["exceptionMessage"] is None and job["processInstanceId"] is None
    assert before <= parse_date(job["createTime"]) <= after
    row = job_rows()[job["id"]]
    assert row.type == "message" and row.handler_type == "demo.noop" and row.handler_configuration is None
    assert row.revision == 1 and row.lock_owner is None and row.lock_expiration_time is None
    # The same JobDto comes back from the query API.
    assert client.get(f"{BASE}/job/{job['id']}").get_json() == job


def test_default_retries_follow_the_configuration(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_JOB_RETRIES", 7)
    response = client.post(URL, json=[{"handlerType": "demo.noop"}, {"handlerType": "demo.noop", "retries": 1}])
    assert [job["retries"] for job in response.get_json()] == [7, 1]


def test_generated_ids_are_unique_and_the_order_is_kept(client):
    items = [{"handlerType": "demo.noop", "priority": index} for index in range(50)]
    created = client.post(URL, json=items).get_json()
    assert [job["priority"] for job in created] == list(range(50))
    assert len({job["id"] for job in created}) == 50


def test_explicit_values_round_trip(client, app_context):
    item = {
        "id": "explicit-1", "type": "timer", "handlerType": "demo.noop", "handlerConfiguration": {"a": [1, "x"]},
        "dueDate": "2030-05-06T07:08:09.123+02:00", "retries": 0, "priority": LONG_MAX, "suspended": True,
        "tenantId": "tenant", "processInstanceId": "pi", "executionId": "ex", "processDefinitionId": "pd:1",
        "processDefinitionKey": "pd", "activityId": "act", "exceptionMessage": "boom",
        "exceptionStacktrace": "trace", "failedActivityId": "act", "createTime": 1453725222165,
        "deploymentId": "dep", "unknownProperty": {"ignored": True},
    }
    response = client.post(URL, json=[item])
    assert response.status_code == 201, response.get_json()
    [job] = response.get_json()
    assert job == {
        "id": "explicit-1", "jobDefinitionId": job["jobDefinitionId"], "dueDate": "2030-05-06T05:08:09.123+0000",
        "processInstanceId": "pi", "executionId": "ex", "processDefinitionId": "pd:1", "processDefinitionKey": "pd",
        "retries": 0, "exceptionMessage": "boom", "failedActivityId": "act", "suspended": True,
        "priority": LONG_MAX, "tenantId": "tenant", "createTime": "2016-01-25T12:33:42.165+0000", "batchId": None,
    }
    row = job_rows()["explicit-1"]
    assert row.type == "timer" and row.handler_configuration == {"a": [1, "x"]}
    assert row.deployment_id == "dep" and row.activity_id == "act"
    trace = db.session.execute(select(JobStacktrace.stacktrace).where(JobStacktrace.job_id == "explicit-1")).scalar()
    assert trace == "trace"


@pytest.mark.parametrize("value, expected", [
    ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000+0000"),
    ("2030-01-01T00:00:00.5+01", "2029-12-31T23:00:00.500+0000"),
    ("2030-01-01T00:00:00.000GMT-01:00", "2030-01-01T01:00:00.000+0000"),
    ("2030-01-01T00:00:00", "2030-01-01T00:00:00.000+0000"),
    (0, "1970-01-01T00:00:00.000+0000"),
    (None, None),
])
def test_due_date_formats(client, value, expected):
    [job] = client.post(URL, json=[{"handlerType": "demo.noop", "dueDate": value}]).get_json()
    assert job["dueDate"] == expected


def test_job_definitions_are_created_once_per_key_activity_and_handler(client, app_context):
    first = client.post(URL, json=[
        {"handlerType": "h1", "processDefinitionKey": "k", "activityId": "a", "processDefinitionId": "k:1"},
        {"handlerType": "h1", "processDefinitionKey": "k", "activityId": "a", "processDefinitionId": "k:1"},
        {"handlerType": "h2", "processDefinitionKey": "k", "activityId": "a"},
        {"handlerType": "h1", "processDefinitionKey": "k", "activityId": "b"},
        {"handlerType": "h1", "processDefinitionKey": "other", "activityId": "a"},
        {"handlerType": "h1"},
        {"handlerType": "h1"},
        {"handlerType": "h1", "processDefinitionKey": "k"},
    ]).get_json()
    definitions = [job["jobDefinitionId"] for job in first]
    assert definitions[0] == definitions[1]
    assert definitions[5] == definitions[6]
    assert len({definitions[0], definitions[2], definitions[3], definitions[4], definitions[5], definitions[7]}) == 6
    assert count(JobDefinition.__table__) == 6
    rows = {row.id: row for row in definition_rows()}
    assert (rows[definitions[0]].process_definition_key, rows[definitions[0]].activity_id,
            rows[definitions[0]].job_type) == ("k", "a", "h1")
    assert rows[definitions[0]].process_definition_id == "k:1"
    assert rows[definitions[0]].suspended is False
    assert rows[definitions[2]].job_type == "h2"
    assert (rows[definitions[5]].process_definition_key, rows[definitions[5]].activity_id) == (None, None)

    # A later request reuses them.
    second = client.post(URL, json=[
        {"handlerType": "h1", "processDefinitionKey": "k", "activityId": "a"},
        {"handlerType": "h2", "processDefinitionKey": "k", "activityId": "a"},
        {"handlerType": "h1"},
        {"handlerType": "h3", "processDefinitionKey": "k", "activityId": "a"},
    ]).get_json()
    assert [job["jobDefinitionId"] for job in second[:3]] == [definitions[0], definitions[2], definitions[5]]
    assert second[3]["jobDefinitionId"] not in definitions
    assert count(JobDefinition.__table__) == 7


def test_explicit_job_definition_id_is_kept_and_creates_nothing(client, app_context):
    [job] = client.post(URL, json=[{"handlerType": "h", "jobDefinitionId": "jd-1", "activityId": "a"}]).get_json()
    assert job["jobDefinitionId"] == "jd-1"
    assert count(JobDefinition.__table__) == 0


def test_ingested_jobs_are_queryable_by_their_definition(client):
    created = client.post(URL, json=[{"handlerType": "h", "processDefinitionKey": "k", "activityId": "a"}] * 3
                          ).get_json()
    definition = created[0]["jobDefinitionId"]
    assert client.get(f"{BASE}/job/count?jobDefinitionId={definition}").get_json() == {"count": 3}
    assert client.get(f"{BASE}/job/count?activityId=a").get_json() == {"count": 3}


def test_duplicate_ids_inside_the_request(client, app_context):
    response = client.post(URL, json=[{"handlerType": "h", "id": "x"}, {"handlerType": "h", "id": "y"},
                                      {"handlerType": "h", "id": "x"}])
    assert_error(response, 400, "jobs[2].id: 'x' is also the id of jobs[0]")
    assert nothing_stored()


def test_id_that_already_exists(client, app_context, make_jobs):
    make_jobs({"id": "taken", "priority": 1})
    response = client.post(URL, json=[{"handlerType": "h", "id": "new-1"}, {"handlerType": "h", "id": "taken"},
                                      {"handlerType": "h"}])
    assert_error(response, 400, "jobs[1].id: a job with id 'taken' already exists")
    assert set(job_rows()) == {"taken"}
    assert job_rows()["taken"].priority == 1
    assert count(JobDefinition.__table__) == 1


def test_retried_request_with_the_same_ids_is_refused_whole(client, app_context):
    items = [{"handlerType": "h", "id": f"r{index}"} for index in range(3)]
    assert client.post(URL, json=items).status_code == 201
    response = client.post(URL, json=[{"handlerType": "h", "id": "r9"}] + items)
    assert_error(response, 400, "jobs[1].id: a job with id 'r0' already exists")
    assert set(job_rows()) == {"r0", "r1", "r2"}


BAD_ITEMS = [
    ({}, "jobs[1].handlerType: Missing data for required field."),
    ({"handlerType": None}, "jobs[1].handlerType: Field may not be null."),
    ({"handlerType": ""}, "jobs[1].handlerType: Length must be between 1 and 255."),
    ({"handlerType": 5}, "jobs[1].handlerType: Not a valid string."),
    ({"handlerType": "h", "retries": -1}, "jobs[1].retries: Must be greater than or equal to 0."),
    ({"handlerType": "h", "retries": 2**31}, "jobs[1].retries: Must be a 32-bit integer."),
    ({"handlerType": "h", "retries": "x"}, "jobs[1].retries: Not a valid integer."),
    ({"handlerType": "h", "retries": True}, "jobs[1].retries: Not a valid integer."),
    ({"handlerType": "h", "priority": 2**63}, "jobs[1].priority: Must be a 64-bit integer."),
    ({"handlerType": "h", "priority": None}, "jobs[1].priority: Field may not be null."),
    ({"handlerType": "h", "type": "cron"}, "jobs[1].type: Must be one of: message, timer."),
    ({"handlerType": "h", "suspended": "maybe"}, "jobs[1].suspended: Not a valid boolean."),
    ({"handlerType": "h", "suspended": 1}, "jobs[1].suspended: Not a valid boolean."),
    ({"handlerType": "h", "id": ""}, "jobs[1].id: Length must be between 1 and 64."),
    ({"handlerType": "h", "id": "x" * 65}, "jobs[1].id: Length must be between 1 and 64."),
    ({"handlerType": "h", "id": "a\u0000"}, "jobs[1].id: Must not contain NUL characters."),
    ({"handlerType": "h", "tenantId": ""}, "jobs[1].tenantId: Length must be between 1 and 64."),
    ({"handlerType": "h", "exceptionMessage": "x" * 4001},
     "jobs[1].exceptionMessage: Longer than maximum length 4000."),
    ({"handlerType": "h", "handlerConfiguration": "x"}, "jobs[1].handlerConfiguration: Not a valid mapping type."),
    ({"handlerType": "h", "handlerConfiguration": [1]}, "jobs[1].handlerConfiguration: Not a valid mapping type."),
    ({"handlerType": "h", "dueDate": "2016-13-45T13:33:42.165+0100"}, "jobs[1].dueDate: " + DATE_HINT),
    ({"handlerType": "h", "dueDate": "2016-01-25T13:33:42.165+0100xyz"}, "jobs[1].dueDate: " + DATE_HINT),
    ({"handlerType": "h", "dueDate": 1.5}, "jobs[1].dueDate: " + DATE_HINT),
    ({"handlerType": "h", "dueDate": True}, "jobs[1].dueDate: " + DATE_HINT),
    ({"handlerType": "h", "dueDate": -62135596800001}, "jobs[1].dueDate: " + DATE_HINT),
    ({"handlerType": "h", "createTime": "yesterday"}, "jobs[1].createTime: " + DATE_HINT),
    ({"handlerType": "h", "processDefinitionKey": 5}, "jobs[1].processDefinitionKey: Not a valid string."),
    ({"handlerType": "h", "activityId": "x" * 256}, "jobs[1].activityId: Length must be between 1 and 255."),
]


@pytest.mark.parametrize("bad, message", BAD_ITEMS, ids=[message for _, message in BAD_ITEMS])
def test_bad_item_names_index_and_field(client, app_context, bad, message):
    response = client.post(URL, json=[{"handlerType": "h", "id": "good-0"}, bad, {"handlerType": "h", "id": "good-2"}])
    assert_error(response, 400, message)
    assert nothing_stored()


def test_every_bad_item_is_reported(client, app_context):
    response = client.post(URL, json=[{"handlerType": "h", "retries": -1}, {"handlerType": "h"},
                                      {"priority": "x"}])
    assert response.status_code == 400
    message = response.get_json()["message"]
    for part in ("jobs[0].retries: Must be greater than or equal to 0.",
                 "jobs[2].handlerType: Missing data for required field.", "jobs[2].priority: Not a valid integer."):
        assert part in message
    assert "jobs[1]" not in message
    assert nothing_stored()


def test_handler_configuration_depth_is_limited(client, app_context):
    def post(depth):
        nested = '{"a":' * depth + "1" + "}" * depth
        data = '[{"handlerType": "h", "handlerConfiguration": ' + nested + "}]"
        return client.post(URL, data=data, content_type="application/json")

    assert post(100).status_code == 201
    for depth in (101, 500):
        assert_error(post(depth), 400, "jobs[0].handlerConfiguration: Must not be nested more than 100 levels deep.")
    # Around the interpreter's recursion limit: serialising used to overflow the stack (a 500).
    for depth in range(960, 1000, 3):
        response = post(depth)
        assert response.status_code == 400
        assert_error_shape(response)
    assert count(Job.__table__) == 1


@pytest.mark.parametrize("item", [1, "x", None, [], True])
def test_items_must_be_objects(client, app_context, item):
    response = client.post(URL, json=[{"handlerType": "h"}, item])
    assert_error(response, 400, "jobs[1]: each job must be a JSON object")
    assert nothing_stored()


ARRAY = 'The body must be a JSON array of jobs, e.g. [{"handlerType": "demo.noop"}]'


@pytest.mark.parametrize("body", [{}, {"handlerType": "h"}, "x", 5, True])
def test_body_must_be_an_array(client, app_context, body):
    assert_error(client.post(URL, json=body), 400, ARRAY)
    assert nothing_stored()


@pytest.mark.parametrize("data", [b"", b"  ", b"null"])
def test_empty_body_is_not_an_array(client, data):
    assert_error(client.post(URL, data=data, content_type="application/json"), 400, ARRAY)


def test_malformed_json(client):
    response = client.post(URL, data=b'[{"handlerType": "h"', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The request body is not valid JSON")


def test_zero_items(client):
    assert_error(client.post(URL, json=[]), 400, "Send between 1 and 10000 jobs per request; got 0")


def test_too_many_items(client, app_context):
    assert_error(client.post(URL, json=[{"handlerType": "h"}] * 10001), 400,
                 "Send between 1 and 10000 jobs per request; got 10001")
    assert nothing_stored()


def test_the_maximum_number_of_items(client, app_context):
    response = client.post(URL, json=[{"handlerType": "h", "id": f"m{index:05d}"} for index in range(10000)])
    assert response.status_code == 201
    created = response.get_json()
    assert len(created) == 10000 and created[0]["id"] == "m00000" and created[-1]["id"] == "m09999"
    assert count(Job.__table__) == 10000
    assert count(JobDefinition.__table__) == 1
    # Ids are checked against the table in slices: a clash at the very end is still found.
    response = client.post(URL, json=[{"handlerType": "h", "id": f"n{index:05d}"} for index in range(9999)]
                           + [{"handlerType": "h", "id": "m09999"}])
    assert_error(response, 400, "jobs[9999].id: a job with id 'm09999' already exists")
    assert count(Job.__table__) == 10000


def test_a_job_without_retries_gets_a_failed_job_incident(client, app_context):
    before = utcnow()
    created = client.post(URL, json=[
        {"id": "failed", "handlerType": "h", "retries": 0, "exceptionMessage": "boom", "activityId": "act",
         "failedActivityId": "fact", "processInstanceId": "pi", "executionId": "ex", "processDefinitionId": "pd:1",
         "processDefinitionKey": "pd", "tenantId": "t"},
        {"id": "failed-plain", "handlerType": "h", "retries": 0},
        {"id": "healthy", "handlerType": "h", "retries": 1, "exceptionMessage": "earlier"},
    ]).get_json()
    after = utcnow()
    incidents = {row.configuration: row for row in incident_rows()}
    assert set(incidents) == {"failed", "failed-plain"}
    incident = incidents["failed"]
    assert incident.incident_type == "failedJob"
    assert incident.incident_message == "boom"
    assert incident.job_definition_id == created[0]["jobDefinitionId"]
    assert (incident.process_instance_id, incident.execution_id, incident.process_definition_id) == ("pi", "ex", "pd:1")
    assert (incident.activity_id, incident.failed_activity_id, incident.tenant_id) == ("act", "fact", "t")
    assert before <= incident.incident_timestamp <= after
    plain = incidents["failed-plain"]
    assert plain.incident_message is None and plain.activity_id is None
    assert uuid.UUID(incident.id) and incident.id != plain.id


def test_the_failed_job_incident_falls_back_to_the_failed_activity(client, app_context):
    client.post(URL, json=[{"id": "f", "handlerType": "h", "retries": 0, "failedActivityId": "fact"}])
    [incident] = incident_rows()
    assert (incident.activity_id, incident.failed_activity_id) == ("fact", "fact")


def test_no_incident_when_incidents_are_switched_off(client, app, app_context, monkeypatch):
    monkeypatch.setitem(app.config, "CREATE_INCIDENT_ON_FAILED_JOB", False)
    assert client.post(URL, json=[{"handlerType": "h", "retries": 0}]).status_code == 201
    assert count(Incident.__table__) == 0


def test_a_refused_request_creates_no_incident(client, app_context):
    response = client.post(URL, json=[{"handlerType": "h", "retries": 0}, {"handlerType": "h", "retries": -1}])
    assert response.status_code == 400
    assert nothing_stored()


def test_ingestion_wakes_the_executor_once(client, dispatched):
    client.post(URL, json=[{"handlerType": "h"}] * 5)
    assert dispatched.names() == ["executor.acquire"]
    dispatched.clear()
    client.post(URL, json=[{"handlerType": "h", "retries": -1}])
    assert dispatched.names() == []


def test_create_time_defaults_to_one_now_for_the_whole_request(client):
    created = client.post(URL, json=[{"handlerType": "h"}] * 20).get_json()
    assert len({job["createTime"] for job in created}) == 1


def test_create_time_can_be_given(client):
    past = format_date(utcnow() - timedelta(days=3))
    [job] = client.post(URL, json=[{"handlerType": "h", "createTime": past}]).get_json()
    assert job["createTime"] == past
