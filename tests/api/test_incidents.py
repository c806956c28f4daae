"""GET /incident and /incident/count: IncidentDto, filters, sorting, paging, validation."""

import re
from datetime import datetime

import pytest

from app.models import Incident
from tests.support import ids_of, insert_rows

BASE = "/engine-rest"
DTO_KEYS = ["id", "processDefinitionId", "processInstanceId", "executionId", "incidentTimestamp", "incidentType",
            "activityId", "failedActivityId", "causeIncidentId", "rootCauseIncidentId", "configuration", "tenantId",
            "incidentMessage", "jobDefinitionId", "annotation"]


def incident(id, **values):
    row = dict(id=id, incident_type="failedJob", incident_message=None,
               incident_timestamp=datetime(2024, 1, 1, 12, 0, 0), configuration=None, job_definition_id=None,
               process_instance_id=None, execution_id=None, process_definition_id=None, activity_id=None,
               failed_activity_id=None, tenant_id=None)
    row.update(values)
    return row


ROWS = [
    incident("in-1", incident_message="boom", incident_timestamp=datetime(2024, 1, 3, 8, 0, 0, 250000),
             configuration="job-1", job_definition_id="jd-1", process_instance_id="pi-1", execution_id="ex-1",
             process_definition_id="pd-1", activity_id="approve", failed_activity_id="approve", tenant_id="t1"),
    incident("in-2", incident_message="crash", incident_timestamp=datetime(2024, 1, 1, 8, 0, 0),
             configuration="job-2", job_definition_id="jd-1", process_instance_id="pi-2", execution_id="ex-2",
             process_definition_id="pd-1", activity_id="archive", tenant_id="t2"),
    incident("in-3", incident_type="custom", incident_message="boom",
             incident_timestamp=datetime(2024, 1, 2, 8, 0, 0), configuration="cfg-3", job_definition_id="jd-2",
             process_instance_id="pi-1", execution_id="ex-3", process_definition_id="pd-2", activity_id="ship"),
]


@pytest.fixture
def incidents(app):
    return insert_rows(app, Incident.__table__, ROWS)


def count(client, **params):
    response = client.get(f"{BASE}/incident/count", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["count"]


def test_dto_has_camundas_keys_and_values(client, incidents):
    listed = client.get(f"{BASE}/incident", query_string={"incidentId": "in-1"}).get_json()
    assert len(listed) == 1
    assert list(listed[0]) == DTO_KEYS
    assert listed[0] == {
        "id": "in-1", "processDefinitionId": "pd-1", "processInstanceId": "pi-1", "executionId": "ex-1",
        "incidentTimestamp": "2024-01-03T08:00:00.250+0000", "incidentType": "failedJob", "activityId": "approve",
        "failedActivityId": "approve", "causeIncidentId": "in-1", "rootCauseIncidentId": "in-1",
        "configuration": "job-1", "tenantId": "t1", "incidentMessage": "boom", "jobDefinitionId": "jd-1",
        "annotation": None,
    }


def test_timestamps_follow_the_configured_output_zone(client, incidents, app):
    app.config["OUTPUT_TIMEZONE"] = "Europe/Berlin"
    try:
        listed = client.get(f"{BASE}/incident", query_string={"incidentId": "in-1"}).get_json()
    finally:
        app.config["OUTPUT_TIMEZONE"] = "UTC"
    assert listed[0]["incidentTimestamp"] == "2024-01-03T09:00:00.250+0100"


def test_incident_of_a_failed_ingested_job(client, make_jobs):
    job = make_jobs({"retries": 0, "exceptionMessage": "bad", "processInstanceId": "pi-9", "activityId": "task",
                     "tenantId": "t9"})[0]
    listed = client.get(f"{BASE}/incident").get_json()
    assert len(listed) == 1
    item = listed[0]
    assert item["configuration"] == job["id"]
    assert item["jobDefinitionId"] == job["jobDefinitionId"]
    assert item["processInstanceId"] == "pi-9" and item["activityId"] == "task" and item["tenantId"] == "t9"
    assert item["incidentMessage"] == "bad" and item["incidentType"] == "failedJob"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", item["incidentTimestamp"])


@pytest.mark.parametrize("params, expected", [
    ({}, ["in-1", "in-2", "in-3"]),
    ({"incidentId": "in-2"}, ["in-2"]),
    ({"incidentType": "failedJob"}, ["in-1", "in-2"]),
    ({"incidentMessage": "boom"}, ["in-1", "in-3"]),
    ({"incidentMessageLike": "cr%"}, ["in-2"]),
    ({"jobDefinitionId": "jd-1"}, ["in-1", "in-2"]),
    ({"jobDefinitionIdIn": "jd-2,jd-9"}, ["in-3"]),
    ({"processInstanceId": "pi-1"}, ["in-1", "in-3"]),
    ({"processDefinitionId": "pd-2"}, ["in-3"]),
    ({"executionId": "ex-2"}, ["in-2"]),
    ({"activityId": "archive"}, ["in-2"]),
    ({"failedActivityId": "approve"}, ["in-1"]),
    ({"causeIncidentId": "in-3"}, ["in-3"]),
    ({"rootCauseIncidentId": "in-1"}, ["in-1"]),
    ({"configuration": "job-2"}, ["in-2"]),
    ({"tenantIdIn": "t1"}, ["in-1"]),
    ({"tenantIdIn": "t1,t2"}, ["in-1", "in-2"]),
    ({"incidentTimestampAfter": "2024-01-01T08:00:00.000+0000"}, ["in-1", "in-3"]),
    ({"incidentTimestampBefore": "2024-01-02T09:00:00.000+0100"}, ["in-2"]),
    ({"processInstanceId": "pi-1", "incidentType": "custom"}, ["in-3"]),
    ({"configuration": "nothing"}, []),
    ({"somethingElse": "ignored"}, ["in-1", "in-2", "in-3"]),
])
def test_filters(client, incidents, params, expected):
    assert ids_of(client.get(f"{BASE}/incident", query_string=params)) == expected
    assert count(client, **params) == len(expected)


def test_repeated_tenant_parameter(client, incidents):
    assert ids_of(client.get(f"{BASE}/incident?tenantIdIn=t2&tenantIdIn=t1")) == ["in-1", "in-2"]


@pytest.mark.parametrize("sort_by, asc", [
    ("incidentId", ["in-1", "in-2", "in-3"]),
    ("incidentTimestamp", ["in-2", "in-3", "in-1"]),
    ("incidentType", ["in-3", "in-1", "in-2"]),
    ("executionId", ["in-1", "in-2", "in-3"]),
    ("activityId", ["in-1", "in-2", "in-3"]),
    ("processInstanceId", ["in-1", "in-3", "in-2"]),
    ("processDefinitionId", ["in-1", "in-2", "in-3"]),
    ("configuration", ["in-3", "in-1", "in-2"]),
    ("tenantId", ["in-1", "in-2", "in-3"]),
    ("incidentMessage", ["in-1", "in-3", "in-2"]),
    ("causeIncidentId", ["in-1", "in-2", "in-3"]),
])
def test_sorting_ascending(client, incidents, sort_by, asc):
    assert ids_of(client.get(f"{BASE}/incident", query_string={"sortBy": sort_by, "sortOrder": "asc"})) == asc


@pytest.mark.parametrize("sort_by, desc", [
    ("incidentId", ["in-3", "in-2", "in-1"]),
    ("incidentTimestamp", ["in-1", "in-3", "in-2"]),
    ("tenantId", ["in-3", "in-2", "in-1"]),  # NULL first when descending
    ("processInstanceId", ["in-2", "in-1", "in-3"]),  # ties stay in id order
])
def test_sorting_descending(client, incidents, sort_by, desc):
    assert ids_of(client.get(f"{BASE}/incident", query_string={"sortBy": sort_by, "sortOrder": "desc"})) == desc


def test_paging(client, incidents):
    params = {"sortBy": "incidentTimestamp", "sortOrder": "asc"}
    page = client.get(f"{BASE}/incident", query_string={**params, "firstResult": 1, "maxResults": 1})
    assert ids_of(page) == ["in-3"]
    assert ids_of(client.get(f"{BASE}/incident", query_string={**params, "firstResult": 2})) == ["in-1"]
    assert ids_of(client.get(f"{BASE}/incident", query_string={"maxResults": 2})) == ["in-1", "in-2"]


def test_max_results_limit(client, incidents, app):
    app.config["QUERY_MAX_RESULTS_LIMIT"] = 2
    try:
        response = client.get(f"{BASE}/incident")
        assert response.status_code == 400
        assert response.get_json()["message"] == "Max results limit of 2 exceeded!"
        assert client.get(f"{BASE}/incident", query_string={"maxResults": 5}).status_code == 400
        assert ids_of(client.get(f"{BASE}/incident", query_string={"incidentType": "failedJob"})) == ["in-1", "in-2"]
    finally:
        app.config["QUERY_MAX_RESULTS_LIMIT"] = None


def test_incidents_follow_the_job_lifecycle(client, make_jobs):
    job = make_jobs({"retries": 1})[0]
    assert count(client) == 0
    client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 0})
    assert ids_of(client.get(f"{BASE}/incident", query_string={"configuration": job["id"]}))
    client.delete(f"{BASE}/job/{job['id']}")
    assert count(client) == 0


@pytest.mark.parametrize("params, message", [
    ({"sortBy": "priority", "sortOrder": "asc"}, "Cannot set query parameter 'sortBy' to value 'priority'"),
    ({"sortBy": "incidentId", "sortOrder": "sideways"}, "Cannot set query parameter 'sortOrder' to value 'sideways'"),
    ({"sortOrder": "asc"}, "Only a single sorting parameter specified. sortBy and sortOrder required"),
    ({"incidentTimestampAfter": "yesterday"},
     "Cannot set query parameter 'incidentTimestampAfter' to value 'yesterday': "
     "Cannot convert value yesterday to java type java.util.Date"),
    ({"firstResult": "x"},
     "Cannot set query parameter 'firstResult' to value 'x': Cannot convert value x to java type java.lang.Integer"),
    ({"maxResults": "-2"}, "Cannot set query parameter 'maxResults' to value '-2': must not be negative"),
])
def test_validation(client, incidents, params, message):
    # the count does not read the paging parameters
    paths = ["/incident"] if {"firstResult", "maxResults"} & set(params) else ["/incident", "/incident/count"]
    for path in paths:
        response = client.get(f"{BASE}{path}", query_string=params)
        assert response.status_code == 400, path
        assert response.get_json() == {"type": "InvalidRequestException", "message": message, "code": None}


def test_named_engine_path(client, incidents):
    assert ids_of(client.get(f"{BASE}/engine/default/incident", query_string={"incidentType": "custom"})) == ["in-3"]


@pytest.mark.parametrize("params", [{"incidentId": "a\x00"}, {"tenantIdIn": "t\x00"}, {"configuration": "\x00"}])
def test_nul_in_a_parameter_is_400_not_500(client, params):
    for path in ("/incident", "/incident/count"):
        response = client.get(f"{BASE}{path}", query_string=params)
        assert response.status_code == 400
        assert response.get_json()["type"] == "InvalidRequestException"
