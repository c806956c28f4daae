"""Which check answers when an input fails several: Camunda's order, word for word.

The schemas (schemas/) run their checks in a fixed order: the input's shape, then what Camunda
checks before any property, then the properties in declaration order, then checks across
properties. These tests send inputs that fail two or more checks at once, so that a reordered
field, hook or decorator shows up as a different message.
"""

import pytest

from tests.support import BASE, assert_400

TOKEN_MESSAGE = ("pageToken is not a token this query issued: send the X-Next-Page-Token of the previous page "
                 "with the same filters, sorting and maxResults")


def assert_message(response, message, status=400, type_="InvalidRequestException", code=None):
    assert response.status_code == status, response.get_json()
    assert response.get_json() == {"type": type_, "message": message, "code": code}


# --- PUT /job/{id}/retries and /job-definition/{id}/retries ------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"dueDate": "tomorrow"}, "retries is null"),
    ({"retries": None, "dueDate": "tomorrow"}, "retries is null"),
    ({"retries": "abc", "dueDate": "tomorrow"}, "retries must be an integer, got 'abc'"),
    ({"retries": 1.5}, "retries must be an integer, got 1.5"),
    ({"retries": True}, "retries must be an integer, got True"),
    ({"retries": [1]}, "retries must be an integer, got [1]"),
    ({"retries": 2**31, "dueDate": "tomorrow"},
     "retries must be between -2147483648 and 2147483647, got 2147483648"),
    ({"retries": -1, "dueDate": "tomorrow"},
     "The number of job retries must be a non-negative Integer, but '-1' has been provided."),
    ({"retries": 1, "dueDate": True},
     'Invalid due date format: Cannot convert value "True" to java type java.util.Date'),
    ([], 'The request body must be a JSON object, e.g. {"retries": 3}'),
])
@pytest.mark.parametrize("path", ["/job/unknown/retries", "/job-definition/unknown/retries"])
def test_retries_checks_in_order(client, path, body, message):
    # Every check comes before the lookup: an unknown id gets the same answer.
    assert_message(client.put(f"{BASE}{path}", json=body), message)


def test_retries_absent_due_date_keeps_it_and_null_clears_it(client, make_jobs):
    job = make_jobs({"dueDate": "2030-01-01T00:00:00.000+0000"})[0]
    url = f"{BASE}/job/{job['id']}/retries"
    assert client.put(url, json={"retries": 2}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] == "2030-01-01T00:00:00.000+0000"
    assert client.put(url, json={"retries": 2, "dueDate": None}).status_code == 204
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["dueDate"] is None


# --- PUT /job/{id}/duedate, /priority, /suspended ------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"cascade": "yes", "duedate": "not a date"}, "cascade must be true or false, got 'yes'"),
    ({"cascade": False, "duedate": "not a date"},
     'Invalid due date format: Cannot convert value "not a date" to java type java.util.Date'),
    (None, 'The request body must be a JSON object, e.g. {"duedate": "2024-01-31T13:45:00.000+0000", '
           '"cascade": false}'),
])
def test_duedate_checks_in_order(client, body, message):
    response = (client.put(f"{BASE}/job/unknown/duedate") if body is None
                else client.put(f"{BASE}/job/unknown/duedate", json=body))
    assert_message(response, message)


@pytest.mark.parametrize("body, message, type_", [
    ({}, "Priority for job 'unknown' cannot be null.", "RestException"),
    (None, "Priority for job 'unknown' cannot be null.", "RestException"),
    ("10", 'The request body must be a JSON object, e.g. {"priority": 10}', "InvalidRequestException"),
    ({"priority": "high"}, "priority must be an integer, got 'high'", "InvalidRequestException"),
    ({"priority": 2**63},
     "priority must be between -9223372036854775808 and 9223372036854775807, got 9223372036854775808",
     "InvalidRequestException"),
])
def test_priority_checks_come_before_the_lookup(client, body, message, type_):
    response = (client.put(f"{BASE}/job/unknown/priority") if body is None
                else client.put(f"{BASE}/job/unknown/priority", json=body))
    assert_message(response, message, type_=type_)


@pytest.mark.parametrize("body, message", [
    ({}, "suspended is null; send true to suspend or false to activate"),
    ({"suspended": "true"}, "suspended must be true or false, got 'true'"),
    (5, 'The request body must be a JSON object, e.g. {"suspended": true}'),
])
def test_job_suspension_checks_come_before_the_lookup(client, body, message):
    assert_message(client.put(f"{BASE}/job/unknown/suspended", json=body), message)


# --- PUT /job/suspended --------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    # the properties' types first, in the DTO's order ...
    ({"jobId": 1, "processInstanceId": 2}, "jobId must be a string, got 1"),
    ({"processInstanceId": "a\x00", "processDefinitionWithoutTenantId": "x"},
     "processInstanceId must not contain NUL characters or lone surrogates"),
    ({"processDefinitionKey": "k", "processDefinitionWithoutTenantId": "x", "suspended": "x"},
     "processDefinitionWithoutTenantId must be true or false, got 'x'"),
    ({"jobId": "j", "suspended": "x"}, "suspended must be true or false, got 'x'"),
    # ... then which selector is given, then the state
    ({"jobId": "j", "processInstanceId": "p"},
     "Either jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey can be set "
     "to update the suspension state."),
    ({"processInstanceId": "p", "processDefinitionId": "d"},
     "Only one of jobId, jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey "
     "should be set to update the suspension state."),
    ({}, "Either jobId, jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey "
         "should be set to update the suspension state."),
    ({"processInstanceId": "p", "suspended": None}, "suspended is null; send true to suspend or false to activate"),
])
def test_suspension_by_selector_checks_in_order(client, body, message):
    assert_message(client.put(f"{BASE}/job/suspended", json=body), message)


# --- batches -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"suspended": "yes"}, "suspended must be a boolean (true or false), got 'yes'"),
    ({"suspended": 1}, "suspended must be a boolean (true or false), got 1"),
    ([True], 'The body must be a JSON object such as {"suspended": true}'),
    (None, 'The body must be a JSON object such as {"suspended": true}'),
])
def test_batch_suspension_body_comes_before_the_lookup(client, body, message):
    response = (client.put(f"{BASE}/batch/unknown/suspended") if body is None
                else client.put(f"{BASE}/batch/unknown/suspended", json=body))
    assert_400(response, message)


def test_an_empty_cascade_is_false(client, make_jobs):
    targets = make_jobs({"retries": 0})
    batch = client.post(f"{BASE}/job/retries", json={"jobIds": [targets[0]["id"]], "retries": 1}).get_json()
    assert client.delete(f"{BASE}/batch/{batch['id']}?cascade=").status_code == 204
    assert client.get(f"{BASE}/history/batch/{batch['id']}").status_code == 200


def test_the_first_cascade_value_counts(client):
    assert_400(client.delete(f"{BASE}/batch/unknown?cascade=maybe&cascade=true"),
               "Cannot set query parameter 'cascade' to value 'maybe': "
               "Cannot convert value maybe to java type java.lang.Boolean")
    assert_400(client.delete(f"{BASE}/batch/unknown?cascade=true&cascade=maybe"),
               "Unable to delete batch with id 'unknown'", code=0)


@pytest.mark.parametrize("path", ["/batch", "/batch/statistics", "/history/batch"])
def test_batch_filters_come_before_paging(client, path):
    assert_400(client.get(f"{BASE}{path}?withoutTenantId=maybe&maxResults=abc"),
               "Cannot set query parameter 'withoutTenantId' to value 'maybe': "
               "Cannot convert value maybe to java type java.lang.Boolean")
    assert_400(client.get(f"{BASE}{path}?sortBy=batchId&firstResult=x"),
               "Only a single sorting parameter specified. sortBy and sortOrder required")


# --- lists: filters, then the page token, then the page numbers -----------------------------------

@pytest.fixture
def token(client, make_jobs):
    make_jobs({"id": "t1"}, {"id": "t2"}, {"id": "t3"})
    return client.get(f"{BASE}/job", query_string={"maxResults": 2}).headers["X-Next-Page-Token"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_page_checks_in_order(client, token, method):
    def call(sorting=None, **params):
        """The list with ``params`` in the URL and ``sorting`` where the method reads the query."""
        if method == "GET":
            return client.get(f"{BASE}/job", query_string={**params, **(sorting or {})})
        return client.post(f"{BASE}/job", query_string=params, json=sorting or {})

    # the token's rules look at the raw parameters, before anything is converted
    assert_400(call(pageToken=token, maxResults="", firstResult="x"),
               "pageToken needs maxResults: it continues a paged list")
    assert_400(call(pageToken=token, maxResults="x", firstResult="x"),
               "pageToken and firstResult cannot be combined: the token already says where to go on")
    # the token is read before maxResults is converted, and checked against the query's order
    assert_400(call(pageToken="garbage", maxResults="x"), TOKEN_MESSAGE)
    assert_400(call({"sortBy": "jobPriority", "sortOrder": "asc"}, pageToken=token, maxResults="x"), TOKEN_MESSAGE)
    assert_400(call(pageToken=token, maxResults="x"),
               "Cannot set query parameter 'maxResults' to value 'x': "
               "Cannot convert value x to java type java.lang.Integer")
    assert [job["id"] for job in call(pageToken=token, maxResults="2", firstResult="0").get_json()] == ["t3"]


def test_the_query_comes_before_the_page(client, token):
    assert_400(client.get(f"{BASE}/job", query_string={"sortBy": "nope", "pageToken": "garbage"}),
               "Cannot set query parameter 'sortBy' to value 'nope'")
    assert_400(client.post(f"{BASE}/job?pageToken=garbage&maxResults=x", json={"sortBy": "nope"}),
               "sortBy parameter has invalid value: nope")
    assert_400(client.post(f"{BASE}/job-definition?maxResults=x", json={"sortBy": "nope"}),
               "sortBy parameter has invalid value: nope")
    assert_400(client.get(f"{BASE}/incident", query_string={"sortBy": "nope", "maxResults": "x"}),
               "Cannot set query parameter 'sortBy' to value 'nope'")


@pytest.mark.parametrize("path", ["/job", "/job/count", "/job-definition", "/job-definition/count"])
@pytest.mark.parametrize("name", ["sortBy", "sortOrder"])
def test_unstorable_sort_values_are_named_once(client, path, name):
    # The check is added once per field, however many schema instances share the field.
    assert_400(client.get(f"{BASE}{path}", query_string={name: "\x00"}), f"{name}: Must not contain NUL characters.")
    assert_400(client.post(f"{BASE}{path}", json={name: "\ud800"}),
               f"{name}: Must be valid Unicode text (no lone surrogates).")
