"""GET/POST /job-definition and /job-definition/count: JobDefinitionDto, filters, sorting, paging."""

import pytest

from app.models import JobDefinition
from tests.support import ids_of, insert_rows

BASE = "/engine-rest"
DTO_KEYS = ["id", "processDefinitionId", "processDefinitionKey", "activityId", "jobType", "jobConfiguration",
            "overridingJobPriority", "suspended", "tenantId", "deploymentId"]


def definition(id, **values):
    row = dict(id=id, activity_id=None, job_type="async-continuation", job_configuration=None,
               process_definition_id=None, process_definition_key=None, suspended=False,
               overriding_priority=None, tenant_id=None, deployment_id=None)
    row.update(values)
    return row


ROWS = [
    definition("jd-1", activity_id="approve", process_definition_id="pd-1", process_definition_key="invoice",
               job_configuration="async-before", tenant_id="t1", deployment_id="dep-1"),
    definition("jd-2", activity_id="archive", process_definition_id="pd-1", process_definition_key="invoice",
               job_type="timer-intermediate-transition", job_configuration="duration: PT1H", tenant_id="t2",
               suspended=True),
    definition("jd-3", activity_id="approve", process_definition_id="pd-2", process_definition_key="order",
               overriding_priority=50, job_configuration="async-after"),
    definition("jd-4", activity_id="ship", process_definition_id="pd-3", process_definition_key="order",
               tenant_id="t1", overriding_priority=0),
]


@pytest.fixture
def definitions(app):
    return insert_rows(app, JobDefinition.__table__, ROWS)


def count(client, **params):
    response = client.get(f"{BASE}/job-definition/count", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["count"]


def test_dto_has_camundas_keys_and_values(client, definitions):
    listed = client.get(f"{BASE}/job-definition", query_string={"jobDefinitionId": "jd-1"}).get_json()
    assert len(listed) == 1
    assert list(listed[0]) == DTO_KEYS
    assert listed[0] == {
        "id": "jd-1", "processDefinitionId": "pd-1", "processDefinitionKey": "invoice", "activityId": "approve",
        "jobType": "async-continuation", "jobConfiguration": "async-before", "overridingJobPriority": None,
        "suspended": False, "tenantId": "t1", "deploymentId": "dep-1",
    }
    third = client.get(f"{BASE}/job-definition", query_string={"jobDefinitionId": "jd-3"}).get_json()[0]
    assert third["overridingJobPriority"] == 50 and third["tenantId"] is None


def test_ingestion_creates_definitions_that_are_listed(client, make_jobs):
    job = make_jobs({"processDefinitionKey": "p", "activityId": "a", "handlerType": "demo.noop"})[0]
    listed = client.get(f"{BASE}/job-definition").get_json()
    assert [item["id"] for item in listed] == [job["jobDefinitionId"]]
    assert listed[0]["jobType"] == "demo.noop" and listed[0]["activityId"] == "a"


def test_default_order_is_by_id_and_the_list_is_complete(client, definitions):
    assert ids_of(client.get(f"{BASE}/job-definition")) == ["jd-1", "jd-2", "jd-3", "jd-4"]
    assert count(client) == 4


@pytest.mark.parametrize("params, expected", [
    ({"jobDefinitionId": "jd-2"}, ["jd-2"]),
    ({"jobDefinitionIds": "jd-1,jd-3"}, ["jd-1", "jd-3"]),
    ({"activityIdIn": "approve"}, ["jd-1", "jd-3"]),
    ({"activityIdIn": "archive,ship"}, ["jd-2", "jd-4"]),
    ({"processDefinitionId": "pd-1"}, ["jd-1", "jd-2"]),
    ({"processDefinitionKey": "order"}, ["jd-3", "jd-4"]),
    ({"jobType": "timer-intermediate-transition"}, ["jd-2"]),
    ({"jobConfiguration": "async-after"}, ["jd-3"]),
    ({"active": "true"}, ["jd-1", "jd-3", "jd-4"]),
    ({"active": "false"}, ["jd-1", "jd-2", "jd-3", "jd-4"]),
    ({"suspended": "true"}, ["jd-2"]),
    ({"suspended": "True", "active": "true"}, ["jd-2"]),
    ({"withOverridingJobPriority": "true"}, ["jd-3", "jd-4"]),
    ({"tenantIdIn": "t1"}, ["jd-1", "jd-4"]),
    ({"tenantIdIn": "t1,t2"}, ["jd-1", "jd-2", "jd-4"]),
    ({"tenantIdIn": "t2", "includeJobDefinitionsWithoutTenantId": "true"}, ["jd-2", "jd-3"]),
    ({"withoutTenantId": "true"}, ["jd-3"]),
    ({"withoutTenantId": "true", "tenantIdIn": "t1"}, ["jd-3"]),
    ({"processDefinitionKey": "order", "activityIdIn": "approve"}, ["jd-3"]),
    ({"processDefinitionKey": "nothing"}, []),
    ({"unknownParameter": "x"}, ["jd-1", "jd-2", "jd-3", "jd-4"]),
])
def test_filters(client, definitions, params, expected):
    assert ids_of(client.get(f"{BASE}/job-definition", query_string=params)) == expected
    assert count(client, **params) == len(expected)


def test_repeated_list_parameters(client, definitions):
    response = client.get(f"{BASE}/job-definition?jobDefinitionIds=jd-4&jobDefinitionIds=jd-2")
    assert ids_of(response) == ["jd-2", "jd-4"]


@pytest.mark.parametrize("sort_by, asc", [
    ("jobDefinitionId", ["jd-1", "jd-2", "jd-3", "jd-4"]),
    ("activityId", ["jd-1", "jd-3", "jd-2", "jd-4"]),
    ("processDefinitionId", ["jd-1", "jd-2", "jd-3", "jd-4"]),
    ("processDefinitionKey", ["jd-1", "jd-2", "jd-3", "jd-4"]),
    ("jobType", ["jd-1", "jd-3", "jd-4", "jd-2"]),
    ("jobConfiguration", ["jd-3", "jd-1", "jd-2", "jd-4"]),
    ("tenantId", ["jd-1", "jd-4", "jd-2", "jd-3"]),
])
def test_sorting(client, definitions, sort_by, asc):
    assert ids_of(client.get(f"{BASE}/job-definition", query_string={"sortBy": sort_by, "sortOrder": "asc"})) == asc
    desc = ids_of(client.get(f"{BASE}/job-definition", query_string={"sortBy": sort_by, "sortOrder": "desc"}))
    # ties keep id order in both directions; the tie-free keys reverse exactly
    values = {row["id"]: row for row in ROWS}
    column = {"jobDefinitionId": "id", "activityId": "activity_id", "processDefinitionId": "process_definition_id",
              "processDefinitionKey": "process_definition_key", "jobType": "job_type",
              "jobConfiguration": "job_configuration", "tenantId": "tenant_id"}[sort_by]
    keyed = [values[item][column] for item in desc]
    non_null = [value for value in keyed if value is not None]
    assert keyed[:len(keyed) - len(non_null)] == [None] * (len(keyed) - len(non_null))  # NULLs first on desc
    assert non_null == sorted(non_null, reverse=True)


def test_paging(client, definitions):
    page = client.get(f"{BASE}/job-definition", query_string={"firstResult": 1, "maxResults": 2})
    assert ids_of(page) == ["jd-2", "jd-3"]
    assert ids_of(client.get(f"{BASE}/job-definition", query_string={"firstResult": 3})) == ["jd-4"]
    assert ids_of(client.get(f"{BASE}/job-definition", query_string={"maxResults": 0})) == []


def test_post_query_with_sorting_array(client, definitions):
    response = client.post(f"{BASE}/job-definition", json={
        "processDefinitionKey": "order", "sorting": [{"sortBy": "activityId", "sortOrder": "desc"}]})
    assert ids_of(response) == ["jd-4", "jd-3"]
    counted = client.post(f"{BASE}/job-definition/count", json={"suspended": True})
    assert counted.get_json() == {"count": 1}
    assert ids_of(client.post(f"{BASE}/job-definition", data="", content_type="application/json")) == [
        "jd-1", "jd-2", "jd-3", "jd-4"]


def test_max_results_limit(client, definitions, app):
    app.config["QUERY_MAX_RESULTS_LIMIT"] = 3
    try:
        response = client.get(f"{BASE}/job-definition")
        assert response.status_code == 400
        assert response.get_json()["message"] == "Max results limit of 3 exceeded!"
        assert ids_of(client.get(f"{BASE}/job-definition", query_string={"maxResults": 3})) == ["jd-1", "jd-2", "jd-3"]
    finally:
        app.config["QUERY_MAX_RESULTS_LIMIT"] = None


@pytest.mark.parametrize("params, message", [
    ({"sortBy": "priority", "sortOrder": "asc"}, "Cannot set query parameter 'sortBy' to value 'priority'"),
    ({"sortBy": "jobType", "sortOrder": "up"}, "Cannot set query parameter 'sortOrder' to value 'up'"),
    ({"sortBy": "jobType"}, "Only a single sorting parameter specified. sortBy and sortOrder required"),
    ({"active": "maybe"},
     "Cannot set query parameter 'active' to value 'maybe': Cannot convert value maybe to java type java.lang.Boolean"),
    ({"firstResult": "-1"}, "Cannot set query parameter 'firstResult' to value '-1': must not be negative"),
    ({"maxResults": "ten"},
     "Cannot set query parameter 'maxResults' to value 'ten': Cannot convert value ten to java type java.lang.Integer"),
])
def test_get_validation(client, definitions, params, message):
    response = client.get(f"{BASE}/job-definition", query_string=params)
    assert response.status_code == 400
    assert response.get_json() == {"type": "InvalidRequestException", "message": message, "code": None}


@pytest.mark.parametrize("body, fragment", [
    ({"sortBy": "nope", "sortOrder": "asc"}, "sortBy parameter has invalid value: nope"),
    ({"suspended": "yes"}, "suspended"),
    ({"jobDefinitionIds": "jd-1"}, "jobDefinitionIds"),
    ({"tenantIdIn": [1]}, "tenantIdIn"),
    ([1, 2], "JSON object"),
])
def test_post_validation(client, definitions, body, fragment):
    response = client.post(f"{BASE}/job-definition", json=body)
    assert response.status_code == 400
    assert fragment in response.get_json()["message"]
    assert client.post(f"{BASE}/job-definition/count", json=body).status_code == 400


def test_malformed_json_is_400(client):
    response = client.post(f"{BASE}/job-definition", data="{", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.get_json()["message"]


@pytest.mark.parametrize("params", [{"jobDefinitionId": "a\x00"}, {"activityIdIn": "x,\x00"}])
def test_nul_in_a_parameter_is_400_not_500(client, params):
    for path in ("/job-definition", "/job-definition/count"):
        response = client.get(f"{BASE}{path}", query_string=params)
        assert response.status_code == 400
        assert response.get_json()["type"] == "InvalidRequestException"
    body = {key: value.split(",") if key.endswith("In") else value for key, value in params.items()}
    assert client.post(f"{BASE}/job-definition", json=body).status_code == 400


def test_lone_surrogate_in_a_post_body_is_400(client):
    assert client.post(f"{BASE}/job-definition", json={"jobType": "\ud800"}).status_code == 400
