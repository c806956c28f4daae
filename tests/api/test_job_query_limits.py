"""Unbounded lists (spec A12, B.1.7): streamed with constant memory, or refused above
``QUERY_MAX_RESULTS_LIMIT`` with Camunda's ``Max results limit of <n> exceeded!``."""

import json

import pytest

from tests.api.job_query_support import BASE, assert_error, assert_job_dto, ids

LIST = f"{BASE}/job"


@pytest.fixture
def limit(app, monkeypatch):
    """Set the limit for one test; monkeypatch puts the old value back."""

    def set_limit(value):
        monkeypatch.setitem(app.config, "QUERY_MAX_RESULTS_LIMIT", value)

    return set_limit


@pytest.fixture
def ten_jobs(make_jobs):
    make_jobs(*[{"id": f"j{index}", "tenantId": "even" if index % 2 == 0 else "odd"} for index in range(10)])
    return [f"j{index}" for index in range(10)]


def exceeded(response, limit_value):
    assert_error(response, 400, f"Max results limit of {limit_value} exceeded!", type_="BadUserRequestException",
                 code=0)


def test_max_results_above_the_limit(client, limit, ten_jobs):
    limit(5)
    for page in ({"maxResults": 6}, {"maxResults": 6, "firstResult": 9}, {"maxResults": 2147483647}):
        exceeded(client.get(LIST, query_string=page), 5)
        exceeded(client.post(LIST, query_string=page, json={}), 5)
        exceeded(client.post(LIST, query_string=page, json={"jobId": "nope"}), 5)  # even for an empty result


def test_max_results_up_to_the_limit(client, limit, ten_jobs):
    limit(5)
    assert ids(client.get(LIST, query_string={"maxResults": 5})) == ten_jobs[:5]
    assert ids(client.post(LIST, query_string={"maxResults": 5, "firstResult": 7}, json={})) == ten_jobs[7:]
    assert ids(client.get(LIST, query_string={"maxResults": 0})) == []


def test_unbounded_list_above_the_limit(client, limit, ten_jobs):
    limit(5)
    exceeded(client.get(LIST), 5)
    exceeded(client.post(LIST, json={}), 5)
    exceeded(client.post(LIST), 5)
    exceeded(client.get(LIST, query_string={"firstResult": 4}), 5)  # 6 rows left
    exceeded(client.get(LIST, query_string={"tenantIdIn": "even,odd"}), 5)


def test_unbounded_list_up_to_the_limit(client, limit, ten_jobs):
    limit(5)
    assert ids(client.get(LIST, query_string={"tenantIdIn": "even"})) == ["j0", "j2", "j4", "j6", "j8"]
    assert ids(client.post(LIST, json={"tenantIdIn": ["odd"]})) == ["j1", "j3", "j5", "j7", "j9"]
    assert ids(client.get(LIST, query_string={"firstResult": 5})) == ten_jobs[5:]
    limit(10)
    assert ids(client.get(LIST)) == ten_jobs


def test_the_limit_does_not_apply_to_counts_or_single_jobs(client, limit, ten_jobs):
    limit(1)
    assert client.get(f"{LIST}/count").get_json() == {"count": 10}
    assert client.post(f"{LIST}/count", json={}).get_json() == {"count": 10}
    assert client.get(f"{LIST}/j3").status_code == 200


def test_the_limit_is_checked_after_the_request(client, limit, ten_jobs):
    """A bad request is still reported as such, not as a limit violation."""
    limit(5)
    assert_error(client.get(LIST, query_string={"timers": "true", "messages": "true"}), 400,
                 "Parameter timers cannot be used together with parameter messages.")
    assert_error(client.get(LIST, query_string={"maxResults": "-1"}), 400,
                 "Cannot set query parameter 'maxResults' to value '-1': must not be negative")


# ---------------------------------------------------------------- streaming without a limit


def test_unbounded_list_streams_every_row(client, app, make_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "QUERY_STREAM_CHUNK_SIZE", 97)  # many round trips, a ragged last one
    expected = [f"s{index:05d}" for index in range(3000)]
    make_jobs(*[{"id": job_id, "priority": index % 7} for index, job_id in enumerate(expected)])
    # (Each body is read before the next request: the test client runs a stream lazily.)
    for request in (lambda: client.get(LIST), lambda: client.post(LIST, json={}), lambda: client.post(LIST)):
        response = request()
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert "Content-Length" not in response.headers  # streamed, not built in memory
        body = json.loads(response.get_data(as_text=True))
        assert [job["id"] for job in body] == expected
        for job in body:
            assert_job_dto(job)
    # With a sort order and an offset the stream still carries every remaining row.
    response = client.get(LIST, query_string={"sortBy": "jobPriority", "sortOrder": "desc", "firstResult": 10})
    body = json.loads(response.get_data(as_text=True))
    assert len(body) == 2990
    assert [job["priority"] for job in body] == sorted((job["priority"] for job in body), reverse=True)


def test_a_bounded_page_is_a_plain_response(client, ten_jobs):
    response = client.get(LIST, query_string={"maxResults": 3})
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    assert ids(response) == ten_jobs[:3]


@pytest.mark.parametrize("rows", [0, 1, 2, 499, 500, 501, 1000, 1001])
def test_stream_chunk_boundaries(client, make_jobs, rows):
    """The array is written in chunks of 500 items: every size around the edges is valid JSON."""
    if rows:
        make_jobs(*[{"id": f"b{index:04d}"} for index in range(rows)])
    text = client.get(LIST).get_data(as_text=True)
    assert [job["id"] for job in json.loads(text)] == [f"b{index:04d}" for index in range(rows)]
    assert text.startswith("[") and text.endswith("]") and ",," not in text and "[," not in text
