"""Keyset paging (our extension): X-Next-Page-Token / pageToken walk a list at any depth."""

import pytest

BASE = "/engine-rest"


def walk(client, method, body=None, page_size=7, **params):
    """Follow the tokens from the first page to the last; returns every id seen, in order."""
    seen, token = [], None
    for _ in range(100):
        query = {"maxResults": page_size, **params}
        if token:
            query["pageToken"] = token
        if method == "GET":
            response = client.get(f"{BASE}/job", query_string=query)
        else:
            response = client.post(f"{BASE}/job", query_string=query, json=body or {})
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        seen += [job["id"] for job in page]
        token = response.headers.get("X-Next-Page-Token")
        if token is None:
            assert len(page) < page_size or not page
            return seen
    raise AssertionError("the walk did not end")


@pytest.fixture
def jobs(make_jobs):
    items = []
    for i in range(30):
        items.append({
            "id": f"job-{i:02d}",
            "priority": i % 4,
            "tenantId": None if i % 3 == 0 else f"t{i % 2}",
            "dueDate": None if i % 5 == 0 else f"2030-01-{1 + i % 9:02d}T00:00:00.000+0000",
            "retries": i % 3,
        })
    return make_jobs(*items)


def expected_order(client, body):
    return [job["id"] for job in client.post(f"{BASE}/job", json=body).get_json()]


def test_default_order_walks_every_job_once_in_order(client, jobs):
    assert walk(client, "GET") == sorted(job["id"] for job in jobs)


@pytest.mark.parametrize("sorting", [
    [{"sortBy": "jobPriority", "sortOrder": "desc"}],
    [{"sortBy": "tenantId", "sortOrder": "asc"}, {"sortBy": "jobDueDate", "sortOrder": "desc"}],
    [{"sortBy": "jobDueDate", "sortOrder": "asc"}, {"sortBy": "jobRetries", "sortOrder": "asc"}],
    [{"sortBy": "tenantId", "sortOrder": "desc"}, {"sortBy": "jobId", "sortOrder": "desc"}],
])
@pytest.mark.parametrize("page_size", [1, 4, 7, 30])
def test_sorted_walks_match_the_unpaged_order_with_nulls_where_postgres_puts_them(
        client, jobs, sorting, page_size):
    body = {"sorting": sorting}
    assert walk(client, "POST", body, page_size=page_size) == expected_order(client, body)


def test_filters_apply_to_every_page(client, jobs):
    body = {"withRetriesLeft": True, "sorting": [{"sortBy": "jobPriority", "sortOrder": "asc"}]}
    assert walk(client, "POST", body, page_size=3) == expected_order(client, body)


def test_a_token_from_another_sort_order_is_refused(client, jobs):
    first = client.get(f"{BASE}/job", query_string={"maxResults": 5})
    token = first.headers["X-Next-Page-Token"]
    response = client.get(f"{BASE}/job", query_string={"maxResults": 5, "pageToken": token,
                                                       "sortBy": "jobPriority", "sortOrder": "asc"})
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("pageToken is not a token this query issued")


@pytest.mark.parametrize("params, message", [
    ({"pageToken": "garbage!!", "maxResults": 5}, "pageToken is not a token this query issued"),
    ({"pageToken": "e30", "maxResults": 5}, "pageToken is not a token this query issued"),
    ({"pageToken": "abc"}, "pageToken needs maxResults"),
    ({"pageToken": "abc", "maxResults": 5, "firstResult": 3}, "pageToken and firstResult cannot be combined"),
])
def test_bad_token_requests_are_400s(client, jobs, params, message):
    response = client.get(f"{BASE}/job", query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "InvalidRequestException" and body["message"].startswith(message)


def test_a_short_page_has_no_token(client, jobs):
    response = client.get(f"{BASE}/job", query_string={"maxResults": 100})
    assert len(response.get_json()) == 30 and "X-Next-Page-Token" not in response.headers
