"""The unmodified PyPI client ``generic-camunda-client`` (OpenAPI-generated for Camunda 7.18) against
the running server: GET/POST /job, GET/POST /job/count and GET /job/{id}. The server has
authentication on, and the client sends an administrator's credentials
(tests.conftest.generic_client_with_credentials says how).

The generated client sends Python booleans as ``True`` in URLs and dates as ``isoformat()``
(``+00:00``, microseconds): both must work (spec A5, A7). Every job it receives is also checked
in its raw JSON form against the 15-key JobDto.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest

generic_camunda_client = pytest.importorskip("generic_camunda_client")

from generic_camunda_client import (  # noqa: E402
    ApiClient,
    ApiException,
    Configuration,
    JobApi,
    JobConditionQueryParameterDto,
    JobQueryDto,
    JobQueryDtoSorting,
)

from tests.api.job_query_support import assert_job_dto  # noqa: E402
from tests.conftest import generic_client_with_credentials  # noqa: E402

UTC = timezone.utc


@pytest.fixture
def api(secure_live_server, client_admin):
    client = generic_client_with_credentials(generic_camunda_client, secure_live_server, *client_admin)
    yield JobApi(client)
    client.close()


def refusal(client):
    """The ApiException a call through ``client`` raises."""
    try:
        with pytest.raises(ApiException) as refused:
            JobApi(client).get_jobs_count()
    finally:
        client.close()
    return refused.value


def test_a_wrong_password_is_the_clients_401(secure_live_server, client_admin):
    refused = refusal(generic_client_with_credentials(generic_camunda_client, secure_live_server,
                                                      client_admin[0], "wrong"))
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="default"'
    assert json.loads(refused.body)["message"] == "The user name or password is not valid"


def test_the_configurations_credentials_alone_are_not_sent(secure_live_server, client_admin):
    """Why generic_client_with_credentials exists (README, "Clients with credentials")."""
    user, password = client_admin
    refused = refusal(ApiClient(Configuration(host=secure_live_server, username=user, password=password)))
    assert refused.status == 401
    assert json.loads(refused.body)["message"].startswith("Authentication required")


@pytest.fixture
def jobs(make_jobs):
    created = make_jobs(
        {"id": "c1", "type": "timer", "tenantId": "t1", "priority": 10, "retries": 3,
         "dueDate": "2020-06-01T00:00:00.000+0000", "processDefinitionKey": "invoice", "activityId": "send",
         "processInstanceId": "pi1", "createTime": "2020-01-01T00:00:00.000+0000"},
        {"id": "c2", "type": "message", "tenantId": "t2", "priority": 5, "retries": 0, "exceptionMessage": "boom",
         "failedActivityId": "send", "processDefinitionKey": "invoice", "activityId": "send",
         "processInstanceId": "pi2", "createTime": "2020-01-02T00:00:00.123+0000"},
        {"id": "c3", "type": "timer", "priority": 1, "retries": 1, "suspended": True,
         "dueDate": "2999-01-01T00:00:00.000+0000", "processDefinitionKey": "order", "activityId": "wait",
         "createTime": "2020-01-03T00:00:00.000+0000"},
    )
    return {job["id"]: job for job in created}


def raw(method, **kwargs):
    """Call a client method without deserialising: (status, parsed JSON)."""
    response = method(_preload_content=False, **kwargs)
    return response.status, json.loads(response.data)


def job_ids(dtos):
    return [dto.id for dto in dtos]


def test_get_jobs(api, jobs):
    dtos = api.get_jobs()
    assert job_ids(dtos) == ["c1", "c2", "c3"]
    status, body = raw(api.get_jobs)
    assert status == 200
    assert body == list(jobs.values())
    for job in body:
        assert_job_dto(job)


def test_get_jobs_deserialises_every_field(api, jobs):
    [dto] = api.get_jobs(job_id="c2")
    assert dto.id == "c2"
    assert dto.job_definition_id == jobs["c2"]["jobDefinitionId"]
    assert dto.retries == 0 and dto.priority == 5 and dto.suspended is False
    assert dto.exception_message == "boom" and dto.failed_activity_id == "send"
    assert dto.tenant_id == "t2" and dto.process_definition_key == "invoice" and dto.process_instance_id == "pi2"
    assert dto.due_date is None and dto.execution_id is None and dto.process_definition_id is None
    assert dto.create_time == datetime(2020, 1, 2, 0, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("kwargs, expected", [
    ({"with_retries_left": True}, ["c1", "c3"]),
    ({"no_retries_left": True}, ["c2"]),
    ({"timers": True}, ["c1", "c3"]),
    ({"messages": True}, ["c2"]),
    ({"suspended": True}, ["c3"]),
    ({"active": True, "suspended": False}, ["c1", "c2"]),
    ({"executable": True}, ["c1"]),
    ({"with_exception": True}, ["c2"]),
    ({"exception_message": "boom"}, ["c2"]),
    ({"failed_activity_id": "send"}, ["c2"]),
    ({"activity_id": "send"}, ["c1", "c2"]),
    ({"process_definition_key": "order"}, ["c3"]),
    ({"process_instance_ids": "pi1,pi2"}, ["c1", "c2"]),
    ({"job_ids": "c3,c1"}, ["c1", "c3"]),
    ({"tenant_id_in": "t1,t2"}, ["c1", "c2"]),
    ({"tenant_id_in": "t1", "include_jobs_without_tenant_id": True}, ["c1", "c3"]),
    ({"without_tenant_id": True}, ["c3"]),
    ({"priority_higher_than_or_equals": 5, "priority_lower_than_or_equals": 9}, ["c2"]),
    ({"due_dates": "gt_2020-05-01T00:00:00.000+0000,lt_2021-01-01T00:00:00.000+0000"}, ["c1"]),
    ({"create_times": "gt_2020-01-01T00:00:00.000+0000"}, ["c2", "c3"]),
    ({"create_times": "lt_2020-01-02T00:00:00.123+0000"}, ["c1", "c2"]),
    ({"sort_by": "jobPriority", "sort_order": "desc"}, ["c1", "c2", "c3"]),
    ({"sort_by": "jobPriority", "sort_order": "asc", "first_result": 1, "max_results": 1}, ["c2"]),
    ({"first_result": 2}, ["c3"]),
    ({"max_results": 0}, []),
])
def test_get_jobs_and_count_with_filters(api, jobs, kwargs, expected):
    assert job_ids(api.get_jobs(**kwargs)) == expected
    # The client's get_jobs_count takes the filters only (no sorting, no paging).
    count_kwargs = {key: value for key, value in kwargs.items()
                    if key not in ("first_result", "max_results", "sort_by", "sort_order")}
    paged = "first_result" in kwargs or "max_results" in kwargs
    assert api.get_jobs_count(**count_kwargs).count == (3 if paged else len(expected))
    status, body = raw(api.get_jobs, **kwargs)
    assert status == 200 and [job["id"] for job in body] == expected
    for job in body:
        assert_job_dto(job)


def condition(operator, value):
    return JobConditionQueryParameterDto(operator=operator, value=value)


@pytest.mark.parametrize("query, expected", [
    (JobQueryDto(), ["c1", "c2", "c3"]),
    (JobQueryDto(job_ids=["c1", "c3"]), ["c1", "c3"]),
    (JobQueryDto(tenant_id_in=["t1", "t2"], with_retries_left=True), ["c1"]),
    (JobQueryDto(timers=True, suspended=True), ["c3"]),
    (JobQueryDto(activity_id="send", no_retries_left=True), ["c2"]),
    (JobQueryDto(priority_higher_than_or_equals=-(2**63), priority_lower_than_or_equals=2**63 - 1),
     ["c1", "c2", "c3"]),
    # Dates as the client writes them: isoformat(), aware or naive, with microseconds.
    (JobQueryDto(due_dates=[condition("gt", datetime(2020, 5, 1, tzinfo=UTC)),
                            condition("lt", datetime(2021, 1, 1, tzinfo=UTC))]), ["c1"]),
    (JobQueryDto(due_dates=[condition("gt", datetime(2020, 6, 1, 0, 59, 59, 999000,
                                                     tzinfo=timezone(timedelta(hours=1))))]), ["c1", "c3"]),
    (JobQueryDto(due_dates=[condition("gt", datetime(2020, 6, 1, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=1))))]),
     ["c3"]),
    (JobQueryDto(create_times=[condition("lt", datetime(2020, 1, 2, 0, 0, 0, 123456))]), ["c1", "c2"]),
    (JobQueryDto(create_times=[condition("gt", datetime(2020, 1, 2, 0, 0, 0, 123000))]), ["c3"]),
    (JobQueryDto(sorting=[JobQueryDtoSorting(sort_by="jobRetries", sort_order="asc")]), ["c2", "c3", "c1"]),
    (JobQueryDto(sorting=[JobQueryDtoSorting(sort_by="tenantId", sort_order="desc"),
                          JobQueryDtoSorting(sort_by="jobId", sort_order="desc")]), ["c3", "c2", "c1"]),
])
def test_query_jobs_and_count(api, jobs, query, expected):
    assert job_ids(api.query_jobs(job_query_dto=query)) == expected
    assert api.query_jobs_count(job_query_dto=query).count == len(expected)
    status, body = raw(api.query_jobs, job_query_dto=query)
    assert status == 200 and [job["id"] for job in body] == expected
    for job in body:
        assert_job_dto(job)


def test_query_jobs_paging(api, jobs):
    query = JobQueryDto(sorting=[JobQueryDtoSorting(sort_by="jobPriority", sort_order="asc")])
    assert job_ids(api.query_jobs(job_query_dto=query, first_result=1, max_results=5)) == ["c2", "c1"]
    assert job_ids(api.query_jobs(job_query_dto=query, max_results=1)) == ["c3"]
    assert job_ids(api.query_jobs(first_result=2)) == ["c3"]


def test_count_of_nothing(api):
    assert api.get_jobs_count().count == 0
    assert api.query_jobs_count(job_query_dto=JobQueryDto()).count == 0
    assert api.get_jobs() == []


def test_get_job(api, jobs):
    dto = api.get_job("c1")
    assert dto.id == "c1" and dto.retries == 3 and dto.priority == 10 and dto.tenant_id == "t1"
    assert dto.due_date == datetime(2020, 6, 1, tzinfo=UTC)
    assert dto.create_time == datetime(2020, 1, 1, tzinfo=UTC)
    status, body = raw(api.get_job, id="c3")
    assert status == 200 and body == jobs["c3"]
    assert_job_dto(body)


def test_get_job_unknown_is_a_404_with_camunda_body(api):
    with pytest.raises(ApiException) as caught:
        api.get_job("nope")
    assert caught.value.status == 404
    assert json.loads(caught.value.body) == {"type": "InvalidRequestException",
                                             "message": "Job with id nope does not exist", "code": None}


@pytest.mark.parametrize("call", [
    lambda api: api.get_jobs(timers=True, messages=True),
    lambda api: api.get_jobs_count(timers=True, messages=True),
    lambda api: api.query_jobs(job_query_dto=JobQueryDto(timers=True, messages=True)),
    lambda api: api.query_jobs_count(job_query_dto=JobQueryDto(timers=True, messages=True)),
])
def test_errors_reach_the_client_as_400(api, call):
    with pytest.raises(ApiException) as caught:
        call(api)
    assert caught.value.status == 400
    assert json.loads(caught.value.body) == {
        "type": "InvalidRequestException",
        "message": "Parameter timers cannot be used together with parameter messages.", "code": None}


def test_many_jobs_stream_through_the_client(api, make_jobs):
    make_jobs(*[{"id": f"bulk{index:04d}"} for index in range(1500)])
    dtos = api.get_jobs()
    assert job_ids(dtos) == [f"bulk{index:04d}" for index in range(1500)]
    assert len(api.query_jobs(job_query_dto=JobQueryDto())) == 1500
    assert api.get_jobs_count().count == 1500
