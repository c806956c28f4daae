"""Sorting (spec B.1.6) and pagination (B.1.7, A2) of the job query.

NULLs sort as PostgreSQL places them, on every database: last for asc, first for desc. Ties
are broken by id asc (our addition, so that pages never overlap).
"""

import pytest

from tests.api.job_query_support import BASE, assert_error, ids, query


@pytest.fixture
def sort_jobs(make_jobs):
    """Five jobs; each sort key orders them differently."""
    make_jobs(
        {"id": "s1", "executionId": "e3", "processInstanceId": "p2", "processDefinitionId": "d1",
         "processDefinitionKey": "k1", "retries": 2, "dueDate": "2020-03-01T00:00:00.000+0000",
         "priority": 5, "tenantId": "tb"},
        {"id": "s2", "processInstanceId": "p1", "processDefinitionKey": "k2", "retries": 0, "priority": -1},
        {"id": "s3", "executionId": "e1", "processDefinitionId": "d3", "retries": 5,
         "dueDate": "2020-01-01T00:00:00.000+0000", "priority": 7, "tenantId": "ta"},
        {"id": "s4", "executionId": "e2", "processInstanceId": "p3", "processDefinitionId": "d2",
         "processDefinitionKey": "k3", "retries": 1, "dueDate": "2020-02-01T00:00:00.000+0000",
         "priority": 0, "tenantId": "tc"},
        {"id": "s5", "retries": 3, "dueDate": "2020-04-01T00:00:00.000+0000", "priority": 100},
    )


# sortBy -> (asc, desc)
ORDERS = {
    "jobId": (["s1", "s2", "s3", "s4", "s5"], ["s5", "s4", "s3", "s2", "s1"]),
    "executionId": (["s3", "s4", "s1", "s2", "s5"], ["s2", "s5", "s1", "s4", "s3"]),
    "processInstanceId": (["s2", "s1", "s4", "s3", "s5"], ["s3", "s5", "s4", "s1", "s2"]),
    "processDefinitionId": (["s1", "s4", "s3", "s2", "s5"], ["s2", "s5", "s3", "s4", "s1"]),
    "processDefinitionKey": (["s1", "s2", "s4", "s3", "s5"], ["s3", "s5", "s4", "s2", "s1"]),
    "jobRetries": (["s2", "s4", "s1", "s5", "s3"], ["s3", "s5", "s1", "s4", "s2"]),
    "jobDueDate": (["s3", "s4", "s1", "s5", "s2"], ["s2", "s5", "s1", "s4", "s3"]),
    "jobPriority": (["s2", "s4", "s1", "s3", "s5"], ["s5", "s3", "s1", "s4", "s2"]),
    "tenantId": (["s3", "s1", "s4", "s2", "s5"], ["s2", "s5", "s4", "s1", "s3"]),
}
SORT_CASES = [(key, order, expected) for key, (asc, desc) in ORDERS.items()
              for order, expected in (("asc", asc), ("desc", desc))]


def test_each_key_orders_differently():
    """Guards the fixture: a wrong column mapping cannot go unnoticed."""
    ascending = [tuple(asc) for asc, _ in ORDERS.values()]
    assert len(set(ascending)) == len(ascending)


@pytest.mark.parametrize("key, order, expected", SORT_CASES)
def test_sort_get(client, sort_jobs, key, order, expected):
    assert ids(client.get(f"{BASE}/job", query_string={"sortBy": key, "sortOrder": order})) == expected


@pytest.mark.parametrize("key, order, expected", SORT_CASES)
def test_sort_post_sorting_array(client, sort_jobs, key, order, expected):
    assert ids(client.post(f"{BASE}/job", json={"sorting": [{"sortBy": key, "sortOrder": order}]})) == expected


@pytest.mark.parametrize("key, order, expected", SORT_CASES)
def test_sort_post_top_level(client, sort_jobs, key, order, expected):
    assert ids(client.post(f"{BASE}/job", json={"sortBy": key, "sortOrder": order})) == expected


@pytest.mark.parametrize("key, order, expected", SORT_CASES)
def test_sort_with_paging_uses_the_same_order(client, sort_jobs, key, order, expected):
    params = {"sortBy": key, "sortOrder": order}
    assert ids(client.get(f"{BASE}/job", query_string={**params, "firstResult": 1, "maxResults": 3})) == expected[1:4]
    assert ids(client.post(f"{BASE}/job?firstResult=3", json=params)) == expected[3:]


def test_default_order_is_id_ascending(client, make_jobs):
    make_jobs({"id": "b"}, {"id": "c"}, {"id": "a10"}, {"id": "a2"}, {"id": "a"})
    expected = ["a", "a10", "a2", "b", "c"]  # string order, not numeric
    assert query(client, {}) == expected
    assert ids(client.get(f"{BASE}/job?maxResults=10")) == expected
    assert ids(client.post(f"{BASE}/job", json={"sorting": []})) == expected
    assert ids(client.post(f"{BASE}/job", json={"sorting": None, "sortBy": None, "sortOrder": None})) == expected


def test_sorting_does_not_change_the_count(client, sort_jobs):
    assert client.get(f"{BASE}/job/count?sortBy=jobRetries&sortOrder=desc").get_json() == {"count": 5}
    assert client.post(f"{BASE}/job/count", json={"sorting": [{"sortBy": "tenantId", "sortOrder": "asc"}]}
                       ).get_json() == {"count": 5}


def test_sort_combines_with_filters(client, sort_jobs):
    params = {"withRetriesLeft": "true", "sortBy": "jobPriority", "sortOrder": "desc"}
    response = client.get(f"{BASE}/job", query_string=params)
    assert ids(response) == ["s5", "s3", "s1", "s4"]


@pytest.fixture
def multi_jobs(make_jobs):
    make_jobs(
        {"id": "m1", "tenantId": "ta", "retries": 1, "priority": 3, "dueDate": "2020-01-02T00:00:00.000Z"},
        {"id": "m2", "tenantId": "ta", "retries": 2, "priority": 3, "dueDate": "2020-01-01T00:00:00.000Z"},
        {"id": "m3", "tenantId": "tb", "retries": 2, "priority": 1},
        {"id": "m4", "tenantId": "tb", "retries": 2, "priority": 2, "dueDate": "2020-01-03T00:00:00.000Z"},
        {"id": "m5", "retries": 1, "priority": 3, "dueDate": "2020-01-01T00:00:00.000Z"},
        {"id": "m6", "retries": 2, "priority": 1},
    )


MULTI = [
    ([("tenantId", "asc"), ("jobRetries", "desc")], ["m2", "m1", "m3", "m4", "m6", "m5"]),
    ([("tenantId", "desc"), ("jobRetries", "asc")], ["m5", "m6", "m3", "m4", "m1", "m2"]),
    ([("jobRetries", "desc"), ("jobDueDate", "asc")], ["m2", "m4", "m3", "m6", "m5", "m1"]),
    ([("jobRetries", "desc"), ("jobDueDate", "desc")], ["m3", "m6", "m4", "m2", "m1", "m5"]),
    ([("jobPriority", "desc"), ("tenantId", "desc"), ("jobId", "desc")], ["m5", "m2", "m1", "m4", "m6", "m3"]),
    ([("jobPriority", "asc"), ("jobRetries", "asc"), ("jobDueDate", "desc")], ["m3", "m6", "m4", "m1", "m5", "m2"]),
]


@pytest.mark.parametrize("levels, expected", MULTI)
def test_multi_level_sorting_array(client, multi_jobs, levels, expected):
    sorting = [{"sortBy": key, "sortOrder": order} for key, order in levels]
    assert ids(client.post(f"{BASE}/job", json={"sorting": sorting})) == expected
    assert ids(client.post(f"{BASE}/job?maxResults=100", json={"sorting": sorting})) == expected
    assert client.post(f"{BASE}/job/count", json={"sorting": sorting}).get_json() == {"count": 6}


def test_top_level_sort_comes_before_the_array(client, multi_jobs):
    body = {"sortBy": "tenantId", "sortOrder": "asc", "sorting": [{"sortBy": "jobRetries", "sortOrder": "desc"}]}
    assert ids(client.post(f"{BASE}/job", json=body)) == ["m2", "m1", "m3", "m4", "m6", "m5"]
    body = {"sortBy": "jobRetries", "sortOrder": "desc", "sorting": [{"sortBy": "tenantId", "sortOrder": "asc"}]}
    assert ids(client.post(f"{BASE}/job", json=body)) == ["m2", "m3", "m4", "m6", "m1", "m5"]


def test_sorting_entry_direction_applies_to_the_previous_key(client, multi_jobs):
    """Camunda's state machine: an entry with only sortOrder sets the direction of the key before."""
    sorting = [{"sortBy": "jobPriority"}, {"sortOrder": "desc"}, {"sortBy": "jobId", "sortOrder": "asc"}]
    assert ids(client.post(f"{BASE}/job", json={"sorting": sorting})) == ["m1", "m2", "m5", "m4", "m3", "m6"]


def test_unknown_sort_key_in_the_array_is_skipped(client, multi_jobs):
    # activityId is no sort key (createTime and batchId are ours, spec A18).
    sorting = [{"sortBy": "activityId"}, {"sortBy": "jobPriority", "sortOrder": "asc"}]
    assert ids(client.post(f"{BASE}/job", json={"sorting": sorting})) == ["m3", "m6", "m4", "m1", "m2", "m5"]
    everything = ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert ids(client.post(f"{BASE}/job", json={"sorting": [{"sortBy": "nope"}]})) == everything


def test_unknown_properties_of_a_sorting_entry_are_ignored(client, multi_jobs):
    sorting = [{"sortBy": "jobPriority", "sortOrder": "asc", "parameters": {"x": 1}}]
    assert ids(client.post(f"{BASE}/job", json={"sorting": sorting})) == ["m3", "m6", "m4", "m1", "m2", "m5"]


# ---------------------------------------------------------------- pagination


@pytest.fixture
def ten_jobs(make_jobs):
    make_jobs(*[{"id": f"p{index}"} for index in range(10)])
    return [f"p{index}" for index in range(10)]


PAGES = [
    ({"firstResult": "0"}, slice(0, None)),
    ({"firstResult": "3"}, slice(3, None)),
    ({"firstResult": "9"}, slice(9, None)),
    ({"firstResult": "10"}, slice(10, None)),
    ({"firstResult": "2147483647"}, slice(10, None)),
    ({"maxResults": "4"}, slice(0, 4)),
    ({"maxResults": "0"}, slice(0, 0)),
    ({"maxResults": "10"}, slice(0, 10)),
    ({"maxResults": "2147483647"}, slice(0, None)),
    ({"firstResult": "2", "maxResults": "3"}, slice(2, 5)),
    ({"firstResult": "8", "maxResults": "5"}, slice(8, 10)),
    ({"firstResult": "0", "maxResults": "0"}, slice(0, 0)),
    ({"firstResult": "12", "maxResults": "5"}, slice(12, 17)),
    ({"firstResult": "", "maxResults": "2"}, slice(0, 2)),  # an empty value is no value
    ({"firstResult": "+2", "maxResults": "3"}, slice(2, 5)),  # Integer.valueOf accepts a sign
]


@pytest.mark.parametrize("page, part", PAGES, ids=[str(page) for page, _ in PAGES])
def test_pagination(client, ten_jobs, page, part):
    expected = ten_jobs[part]
    assert ids(client.get(f"{BASE}/job", query_string=page)) == expected
    assert ids(client.post(f"{BASE}/job", query_string=page, json={})) == expected
    assert ids(client.post(f"{BASE}/job", query_string=page)) == expected
    # The count endpoints take no paging: the parameters are ignored there.
    assert client.get(f"{BASE}/job/count", query_string=page).get_json() == {"count": 10}
    assert client.post(f"{BASE}/job/count", query_string=page, json={}).get_json() == {"count": 10}


def test_pages_walk_the_whole_result_without_overlap(client, multi_jobs):
    """Even with ties in the sort key, consecutive pages neither overlap nor skip."""
    seen = []
    for first in range(0, 6, 2):
        params = {"sortBy": "jobRetries", "sortOrder": "asc", "firstResult": first, "maxResults": 2}
        page = ids(client.get(f"{BASE}/job", query_string=params))
        seen.extend(page)
    assert seen == ["m1", "m5", "m2", "m3", "m4", "m6"]


def test_pagination_with_filters(client, ten_jobs, make_jobs):
    make_jobs({"id": "q1", "tenantId": "t"}, {"id": "q2", "tenantId": "t"}, {"id": "q3", "tenantId": "t"})
    assert ids(client.get(f"{BASE}/job?tenantIdIn=t&firstResult=1&maxResults=1")) == ["q2"]
    assert ids(client.post(f"{BASE}/job?firstResult=1", json={"tenantIdIn": ["t"]})) == ["q2", "q3"]


def test_paging_in_a_post_body_is_ignored(client, ten_jobs):
    """firstResult/maxResults are query parameters only (spec B.1.1); in the body they are unknown keys."""
    assert ids(client.post(f"{BASE}/job", json={"firstResult": 5, "maxResults": 1})) == ten_jobs


@pytest.mark.parametrize("name", ["firstResult", "maxResults"])
@pytest.mark.parametrize("value", ["-1", "-2147483648"])
def test_negative_paging_is_400(client, ten_jobs, name, value):
    message = f"Cannot set query parameter '{name}' to value '{value}': must not be negative"
    assert_error(client.get(f"{BASE}/job", query_string={name: value}), 400, message)
    assert_error(client.post(f"{BASE}/job", query_string={name: value}, json={}), 400, message)


@pytest.mark.parametrize("name", ["firstResult", "maxResults"])
@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "0x10", "2147483648", "99999999999999999999", "1_0",
                                   "\u0661", "5abc", "true", "--1"])
def test_non_integer_paging_is_400(client, ten_jobs, name, value):
    message = f"Cannot set query parameter '{name}' to value '{value}': Cannot convert value {value} " \
              "to java type java.lang.Integer"
    assert_error(client.get(f"{BASE}/job", query_string={name: value}), 400, message)
    assert_error(client.post(f"{BASE}/job", query_string={name: value}, json={}), 400, message)
