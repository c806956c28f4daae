"""Helpers shared by the job query tests: the JobDto shape, GET/POST/count agreement, errors."""

import re

BASE = "/engine-rest"
BASES = ("/engine-rest", "/engine-rest/engine/default")

JOB_DTO_KEYS = [
    "id", "jobDefinitionId", "dueDate", "processInstanceId", "executionId", "processDefinitionId",
    "processDefinitionKey", "retries", "exceptionMessage", "failedActivityId", "suspended", "priority",
    "tenantId", "createTime", "batchId",
]
# yyyy-MM-dd'T'HH:mm:ss.SSSZ in UTC (spec A4)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
NULLABLE_STRINGS = (
    "jobDefinitionId", "processInstanceId", "executionId", "processDefinitionId", "processDefinitionKey",
    "exceptionMessage", "failedActivityId", "tenantId", "batchId",
)
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def assert_job_dto(job):
    """All 15 keys, in JobDto order, nulls present, each with its JSON type (spec B.1.10)."""
    assert list(job) == JOB_DTO_KEYS
    assert isinstance(job["id"], str) and job["id"]
    for key in NULLABLE_STRINGS:
        assert job[key] is None or isinstance(job[key], str), (key, job[key])
    assert type(job["retries"]) is int and job["retries"] >= 0
    assert type(job["priority"]) is int and LONG_MIN <= job["priority"] <= LONG_MAX
    assert type(job["suspended"]) is bool
    assert isinstance(job["createTime"], str) and DATE_RE.match(job["createTime"]), job["createTime"]
    assert job["dueDate"] is None or DATE_RE.match(job["dueDate"]), job["dueDate"]


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [job["id"] for job in response.get_json()]


def query(client, params=None, body=None, base=BASE, page=None):
    """Run the same query as GET /job, POST /job, GET /job/count and POST /job/count.

    Asserts that all four answer 200, that GET and POST return the same ids in the same order,
    that both counts equal the list length, and that every job has the JobDto shape.
    Returns the ids. ``body`` defaults to ``params`` (for queries whose JSON equals the GET form).
    """
    body = params if body is None else body
    page = page or {}
    responses = []
    for method, path, kwargs in (
        ("get", "/job", {"query_string": {**(params or {}), **page}}),
        ("post", "/job", {"query_string": page, "json": body or {}}),
        ("get", "/job/count", {"query_string": params or {}}),
        ("post", "/job/count", {"json": body or {}}),
    ):
        response = getattr(client, method)(base + path, **kwargs)
        # Read a streamed body before the next request: the test client runs the generator
        # lazily inside a re-pushed request context.
        text = response.get_data(as_text=True)
        assert response.status_code == 200, (method, path, text)
        responses.append(response)
    got, posted, get_count, post_count = responses
    get_jobs, post_jobs = got.get_json(), posted.get_json()
    for job in get_jobs:
        assert_job_dto(job)
    assert get_jobs == post_jobs
    assert get_count.get_json() == post_count.get_json()
    if not page:
        assert get_count.get_json() == {"count": len(get_jobs)}
    return [job["id"] for job in get_jobs]


def assert_error(response, status, message, type_="InvalidRequestException", code=None):
    """Camunda's error body: exactly ``{type, message, code}``."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert body == {"type": type_, "message": message, "code": code}


def assert_error_shape(response):
    """Any error: status < 500 and the three keys with their types."""
    assert response.status_code < 500, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"type", "message", "code"}, body
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["code"] is None or type(body["code"]) is int
