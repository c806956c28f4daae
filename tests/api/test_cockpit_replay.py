"""The requests Cockpit and the JS SDK send, replayed unchanged over real HTTP (issue 11, A18).

Each request is written as the client sends it (the SDK's base URL is
``<engine-rest>/engine/default``; Cockpit adds HAL to its Accept header; the SDK's batch
statistics call has a trailing slash; list pages send their paging and sorting to the counts as
well). Before A18 the first four of these were 404s.
"""

import threading

import pytest
import requests

ENGINE = "/engine/default"
HAL_ACCEPT = {"Accept": "application/hal+json, application/json; q=0.5"}


@pytest.fixture
def http(live_server):
    session = requests.Session()
    session.headers.update(HAL_ACCEPT)

    def call(method, path, **kwargs):
        return session.request(method, live_server + path, timeout=30, **kwargs)

    yield call
    session.close()


@pytest.fixture
def dead_jobs(make_jobs):
    """Six failed jobs of one job definition, out of retries, as the Cockpit incident view sees them."""
    return make_jobs(*({"exceptionMessage": f"Connection refused #{n}", "retries": 0} for n in range(6)),
                     processDefinitionKey="invoice", activityId="ServiceTask_1", handlerType="demo.noop")


def assert_json(response, status=200):
    assert response.status_code == status, (response.request.method, response.url, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_cockpit_engine_list_and_version(http):
    assert assert_json(http("GET", "/engine")) == [{"name": "default"}]
    assert assert_json(http("GET", "/version")) == {"version": "7.24.0"}
    assert assert_json(http("GET", f"{ENGINE}/version")) == {"version": "7.24.0"}


def test_sdk_batch_statistics_with_its_trailing_slash(http):
    assert assert_json(http("GET", f"{ENGINE}/batch/statistics/", params={"firstResult": 0, "maxResults": 50})) == []
    assert assert_json(http("GET", f"{ENGINE}/batch/statistics/count/")) == {"count": 0}


def test_job_list_page_sends_paging_and_sorting_to_the_count_too(http, dead_jobs):
    params = {"noRetriesLeft": "true", "sortBy": "jobDueDate", "sortOrder": "asc", "firstResult": 0,
              "maxResults": 5, "sorting[0][sortBy]": "jobId", "sorting[0][sortOrder]": "asc"}
    page = assert_json(http("GET", f"{ENGINE}/job", params=params))
    assert len(page) == 5
    assert assert_json(http("GET", f"{ENGINE}/job/count", params=params)) == {"count": 6}


def test_post_queries_with_paging_in_the_body_as_cockpit_sends_them(http, dead_jobs):
    body = {"noRetriesLeft": True, "sorting": [{"sortBy": "jobId", "sortOrder": "desc"}], "firstResult": 2,
            "maxResults": 1}
    jobs = assert_json(http("POST", f"{ENGINE}/job", json=body, params={"firstResult": 0, "maxResults": 3}))
    # Paging comes from the query string, as in Camunda; in the body it is ignored (A6).
    assert [job["id"] for job in jobs] == sorted((job["id"] for job in dead_jobs), reverse=True)[:3]
    assert assert_json(http("POST", f"{ENGINE}/job/count", json=body)) == {"count": 6}
    assert assert_json(http("POST", f"{ENGINE}/job/count/", json=body,
                            params={"firstResult": 0, "maxResults": 3})) == {"count": 6}


def test_ten_parallel_retries_updates(http, dead_jobs, make_jobs):
    jobs = dead_jobs + make_jobs(*({"retries": 0} for _ in range(4)))
    results = {}

    def put(job_id):
        results[job_id] = http("PUT", f"{ENGINE}/job/{job_id}/retries", json={"retries": 3}).status_code

    threads = [threading.Thread(target=put, args=(job["id"],)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == [204] * 10
    listed = assert_json(http("POST", f"{ENGINE}/job", json={"jobIds": [job["id"] for job in jobs]}))
    assert [job["retries"] for job in listed] == [3] * 10


def test_retry_all_through_the_job_definition(http, dead_jobs):
    definition_id = dead_jobs[0]["jobDefinitionId"]
    assert {job["jobDefinitionId"] for job in dead_jobs} == {definition_id}
    assert assert_json(http("GET", f"{ENGINE}/incident/count/")) == {"count": 6}
    response = http("PUT", f"{ENGINE}/job-definition/{definition_id}/retries/", json={"retries": 1})
    assert response.status_code == 204, response.text
    assert assert_json(http("GET", f"{ENGINE}/job/count", params={"jobDefinitionId": definition_id,
                                                                  "withRetriesLeft": "true"})) == {"count": 6}
    assert assert_json(http("GET", f"{ENGINE}/incident/count/")) == {"count": 0}


def test_due_date_recalculation_and_the_new_filters(http, make_jobs):
    job = make_jobs({"type": "timer", "handlerConfiguration": {"timeDuration": "PT5M"},
                     "createTime": "2026-01-01T00:00:00.000+0000", "exceptionMessage": "Read timed out",
                     "retries": 2})[0]
    response = http("POST", f"{ENGINE}/job/{job['id']}/duedate/recalculate", params={"creationDateBased": "true"})
    assert response.status_code == 204, response.text
    params = {"exceptionMessageLike": "%timed out", "retrying": "true", "sortBy": "createTime", "sortOrder": "desc"}
    found = assert_json(http("GET", f"{ENGINE}/job/", params=params))
    assert [(item["id"], item["dueDate"]) for item in found] == [(job["id"], "2026-01-01T00:05:00.000+0000")]


def test_an_unknown_engine_as_camunda_answers_it(http):
    assert assert_json(http("GET", "/engine/other/job"), 400) == {
        "type": "InvalidRequestException", "message": "No process engine available", "code": None}
