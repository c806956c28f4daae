"""Every 400 of the job query (spec B.1.3, B.1.6, B.1.8, A2, A7) with its exact body, and a
"garbage in" sweep: no request to the job query or ingestion endpoints may produce a 500."""

import json

import pytest

from tests.api.job_query_support import BASE, BASES, assert_error, assert_error_shape, ids

DATE = "2016-01-25T13:33:42.165+0100"
BOOLEAN_PARAMS = [
    "withRetriesLeft", "executable", "timers", "messages", "withException", "noRetriesLeft", "active",
    "suspended", "withoutTenantId", "includeJobsWithoutTenantId", "acquired",
]
LIST = f"{BASE}/job"
COUNT = f"{BASE}/job/count"


@pytest.fixture
def two_jobs(make_jobs):
    make_jobs({"id": "a", "type": "timer"}, {"id": "b"})


def get_and_count(client, params):
    """The same GET query on the list and the count endpoint."""
    return [client.get(LIST, query_string=params), client.get(COUNT, query_string=params)]


def post_and_count(client, body, **kwargs):
    return [client.post(LIST, json=body, **kwargs), client.post(COUNT, json=body, **kwargs)]


# ---------------------------------------------------------------- B.1.3 date conditions


@pytest.mark.parametrize("field, label", [("dueDates", "due date"), ("createTimes", "create time")])
def test_invalid_comparator(client, field, label):
    message = f"Invalid {label} comparator specified: bt"
    for response in get_and_count(client, {field: f"bt_{DATE}"}):
        assert_error(response, 400, message)
    for response in post_and_count(client, {field: [{"operator": "bt", "value": DATE}]}):
        assert_error(response, 400, message)


@pytest.mark.parametrize("operator", ["eq", "neq", "gteq", "lteq", "like", "notLike", "GT", "Lt", ""])
def test_only_gt_and_lt_are_comparators(client, operator):
    for response in post_and_count(client, {"dueDates": [{"operator": operator, "value": DATE}]}):
        assert_error(response, 400, f"Invalid due date comparator specified: {operator}")


@pytest.mark.parametrize("field, label", [("dueDates", "due date"), ("createTimes", "create time")])
def test_null_comparator_is_reported_as_null(client, field, label):
    """Operaton's answer (spec B.1.3/B.8); Camunda would fail with a NullPointerException."""
    message = f"Invalid {label} comparator specified: null"
    for body in ({field: [{"operator": None, "value": DATE}]}, {field: [{"value": DATE}]}):
        for response in post_and_count(client, body):
            assert_error(response, 400, message)


@pytest.mark.parametrize("field, label", [("dueDates", "due date"), ("createTimes", "create time")])
def test_invalid_date_value(client, field, label):
    message = f'Invalid {label} format: Cannot convert value "invalidValue" to java type java.util.Date'
    for response in get_and_count(client, {field: "lt_invalidValue"}):
        assert_error(response, 400, message)
    for response in post_and_count(client, {field: [{"operator": "lt", "value": "invalidValue"}]}):
        assert_error(response, 400, message)


@pytest.mark.parametrize("value, shown", [
    (None, "null"), (True, "true"), (False, "false"), (1.5, "1.5"), ({"a": 1}, '{"a":1}'), ([DATE], f'["{DATE}"]'),
    ("", ""), ("2016-13-45T13:33:42.165+0100", "2016-13-45T13:33:42.165+0100"),
    (f"{DATE}xyz", f"{DATE}xyz"), ("2016-01-25T13:33:42.165 0100", "2016-01-25T13:33:42.165 0100"),
    (253402300800000, "253402300800000"),
])
def test_invalid_date_values_in_json_are_shown_as_json(client, value, shown):
    message = f'Invalid due date format: Cannot convert value "{shown}" to java type java.util.Date'
    for response in post_and_count(client, {"dueDates": [{"operator": "gt", "value": value}]}):
        assert_error(response, 400, message)


def test_missing_date_value_is_null(client):
    assert_error(client.post(LIST, json={"createTimes": [{"operator": "gt"}]}), 400,
                 'Invalid create time format: Cannot convert value "null" to java type java.util.Date')


def test_the_value_is_checked_before_the_operator(client):
    """JobQueryDto.ApplyDates converts the date first."""
    assert_error(client.post(LIST, json={"dueDates": [{"operator": "bt", "value": "x"}]}), 400,
                 'Invalid due date format: Cannot convert value "x" to java type java.util.Date')


def test_conditions_are_checked_in_order(client):
    body = {"dueDates": [{"operator": "gt", "value": DATE}, {"operator": "xx", "value": DATE},
                         {"operator": "lt", "value": "bad"}]}
    assert_error(client.post(LIST, json=body), 400, "Invalid due date comparator specified: xx")


def test_due_dates_are_checked_before_create_times(client):
    body = {"createTimes": [{"operator": "xx", "value": DATE}], "dueDates": [{"operator": "yy", "value": DATE}]}
    assert_error(client.post(LIST, json=body), 400, "Invalid due date comparator specified: yy")


@pytest.mark.parametrize("field, label", [("dueDates", "due date"), ("createTimes", "create time")])
def test_value_in_double_quotes(client, field, label):
    for value in (f'"{DATE}"', f'"{DATE}', f'{DATE}"'):
        message = f"Invalid {label} format: Cannot convert value {value} to java type java.util.Date " \
                  "because of double quotes"
        assert_error(client.get(LIST, query_string={field: f"gt_{value}"}), 400, message)
        assert_error(client.post(LIST, json={field: [{"operator": "gt", "value": value}]}), 400, message)


def test_unencoded_plus_in_url_is_a_format_error(client):
    """``+`` in a query string is a space (spec B.2.1): the value no longer parses."""
    assert_error(client.get(f"{LIST}?dueDates=gt_2016-01-25T13:33:42.165+0100"), 400,
                 'Invalid due date format: Cannot convert value "2016-01-25T13:33:42.165 0100" '
                 "to java type java.util.Date")
    assert client.get(f"{LIST}?dueDates=gt_2016-01-25T13:33:42.165%2B0100").status_code == 200


@pytest.mark.parametrize("raw", ["gt", "gt2016", "gt_", "_", "", "gt_a_b", f"gt_{DATE},lt", f"gt_{DATE},,lt_{DATE}"])
@pytest.mark.parametrize("field", ["dueDates", "createTimes"])
def test_malformed_condition_parameter(client, field, raw):
    message = f"Cannot set query parameter '{field}' to value '{raw}': condition query parameter has to have " \
              "format OPERATOR_VALUE."
    for response in get_and_count(client, {field: raw}):
        assert_error(response, 400, message)


def test_trailing_separators_are_dropped_as_java_split_does(client, two_jobs):
    assert ids(client.get(LIST, query_string={"dueDates": "gt_2000-01-01T00:00:00.000Z_"})) == []
    assert ids(client.get(LIST, query_string={"dueDates": "gt_2000-01-01T00:00:00.000Z,"})) == []
    assert ids(client.get(LIST, query_string={"createTimes": "gt_2000-01-01T00:00:00.000Z,"})) == ["a", "b"]


# ---------------------------------------------------------------- B.1.4 / B.1.8 conversions


@pytest.mark.parametrize("name", ["priorityHigherThanOrEquals", "priorityLowerThanOrEquals"])
@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "9223372036854775808", "-9223372036854775809", "1_0",
                                   "0x1F", "", "true"])
def test_priority_not_a_long(client, name, value):
    message = f"Cannot set query parameter '{name}' to value '{value}': Cannot convert value {value} " \
              "to java type java.lang.Long"
    for response in get_and_count(client, {name: value}):
        assert_error(response, 400, message)


@pytest.mark.parametrize("name", BOOLEAN_PARAMS)
@pytest.mark.parametrize("value", ["x", "yes", "1", "0", "t", "truee", "on", "null"])
def test_get_boolean_not_true_or_false(client, name, value):
    message = f"Cannot set query parameter '{name}' to value '{value}': Cannot convert value {value} " \
              "to java type java.lang.Boolean"
    for response in get_and_count(client, {name: value}):
        assert_error(response, 400, message)


@pytest.mark.parametrize("name", BOOLEAN_PARAMS)
@pytest.mark.parametrize("value", ["true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "fAlSe"])
def test_get_boolean_any_case(client, name, value):
    for response in get_and_count(client, {name: value}):
        assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("params", [{"timers": "true", "messages": "true"}, {"timers": "True", "messages": "TRUE"}])
def test_timers_and_messages(client, params):
    message = "Parameter timers cannot be used together with parameter messages."
    for response in get_and_count(client, params):
        assert_error(response, 400, message)
    for response in post_and_count(client, {"timers": True, "messages": True}):
        assert_error(response, 400, message)


def test_timers_true_messages_false_is_fine(client, two_jobs):
    assert ids(client.get(LIST, query_string={"timers": "true", "messages": "false"})) == ["a"]
    assert ids(client.post(LIST, json={"timers": False, "messages": True})) == ["b"]


# ---------------------------------------------------------------- B.1.6 sorting


SINGLE = "Only a single sorting parameter specified. sortBy and sortOrder required"


@pytest.mark.parametrize("params", [{"sortBy": "jobDueDate"}, {"sortOrder": "asc"}, {"sortOrder": "desc"}])
def test_only_one_of_sort_by_and_sort_order(client, params):
    for response in get_and_count(client, params):
        assert_error(response, 400, SINGLE)
    for response in post_and_count(client, params):
        assert_error(response, 400, SINGLE)


def test_only_one_sorting_parameter_even_with_a_sorting_array(client):
    body = {"sortBy": "jobId", "sorting": [{"sortBy": "jobRetries", "sortOrder": "asc"}]}
    assert_error(client.post(LIST, json=body), 400, SINGLE)


def test_filter_errors_come_before_the_sort_pair_check(client):
    message = "Parameter timers cannot be used together with parameter messages."
    assert_error(client.get(LIST, query_string={"timers": "true", "messages": "true", "sortBy": "jobId"}),
                 400, message)
    assert_error(client.post(LIST, json={"sortOrder": "asc", "dueDates": [{"operator": "xx", "value": DATE}]}),
                 400, "Invalid due date comparator specified: xx")


def test_invalid_sort_values_come_before_the_filters(client):
    params = {"sortBy": "activityId", "sortOrder": "asc", "timers": "true", "messages": "true"}
    assert_error(client.get(LIST, query_string=params), 400,
                 "Cannot set query parameter 'sortBy' to value 'activityId'")


# createTime and batchId are sort keys of ours (spec A18); activityId is a filter, never a sort key.
@pytest.mark.parametrize("value", ["activityId", "id", "jobid", "JOBID", "dueDate", "priority", "", "jobId "])
def test_invalid_get_sort_by(client, value):
    for response in get_and_count(client, {"sortBy": value, "sortOrder": "asc"}):
        assert_error(response, 400, f"Cannot set query parameter 'sortBy' to value '{value}'")


@pytest.mark.parametrize("value", ["ASC", "up", "ascending", "", "Desc"])
def test_invalid_get_sort_order(client, value):
    for response in get_and_count(client, {"sortBy": "jobId", "sortOrder": value}):
        assert_error(response, 400, f"Cannot set query parameter 'sortOrder' to value '{value}'")


@pytest.mark.parametrize("value", ["activityId", "id", "JOBID", ""])
def test_invalid_post_top_level_sort_by(client, value):
    for response in post_and_count(client, {"sortBy": value, "sortOrder": "asc"}):
        assert_error(response, 400, f"sortBy parameter has invalid value: {value}")


@pytest.mark.parametrize("value", ["ASC", "up", ""])
def test_invalid_post_top_level_sort_order(client, value):
    for response in post_and_count(client, {"sortBy": "jobId", "sortOrder": value}):
        assert_error(response, 400, f"sortOrder parameter has invalid value: {value}")


NO_PROPERTY = "You should call any of the orderBy methods first before specifying a direction: " \
              "currentOrderingProperty is null"
TWO_DIRECTIONS = "Invalid query: can specify only one direction desc() or asc() for an ordering constraint: " \
                 "direction is not null"
NO_DIRECTION = "Invalid query: call asc() or desc() after using orderByXX(): direction is null"


@pytest.mark.parametrize("sorting, message", [
    ([{"sortOrder": "asc"}], NO_PROPERTY),
    ([{"sortBy": "activityId", "sortOrder": "asc"}], NO_PROPERTY),
    ([{"sortBy": None, "sortOrder": "desc"}], NO_PROPERTY),
    ([{"sortBy": "jobRetries", "sortOrder": "asc"}, {"sortBy": "bogus", "sortOrder": "desc"}], TWO_DIRECTIONS),
    ([{"sortBy": "jobRetries", "sortOrder": "asc"}, {"sortOrder": "asc"}], TWO_DIRECTIONS),
    ([{"sortBy": "jobRetries"}], NO_DIRECTION),
    ([{"sortBy": "jobRetries", "sortOrder": "up"}], NO_DIRECTION),
    ([{"sortBy": "jobRetries", "sortOrder": "ASC"}], NO_DIRECTION),
    ([{"sortBy": "jobId", "sortOrder": "asc"}, {"sortBy": "jobRetries"}], NO_DIRECTION),
    ([{"sortBy": "jobRetries"}, {"sortBy": "jobId", "sortOrder": "asc"}], NO_DIRECTION),
])
def test_sorting_array_state_machine(client, sorting, message):
    """NotValidException (spec B.1.6); our implementation reports these with ``code: null``."""
    assert_error(client.post(LIST, json={"sorting": sorting}), 400, message, type_="NotValidException")


def test_top_level_direction_then_array_direction(client):
    body = {"sortBy": "jobId", "sortOrder": "asc", "sorting": [{"sortOrder": "desc"}]}
    assert_error(client.post(LIST, json=body), 400, TWO_DIRECTIONS, type_="NotValidException")


# ---------------------------------------------------------------- bodies (A2, A6, A7)


@pytest.mark.parametrize("path", [LIST, COUNT])
@pytest.mark.parametrize("data", [b"", b"   ", b"\n", b"null"])
def test_empty_body_means_empty_query(client, two_jobs, path, data):
    for content_type in ("application/json", None):
        response = client.post(path, data=data, content_type=content_type)
        if path == COUNT:
            assert response.status_code == 200 and response.get_json() == {"count": 2}
        else:
            assert ids(response) == ["a", "b"]


@pytest.mark.parametrize("path", [LIST, COUNT])
@pytest.mark.parametrize("data", [b"{", b"{'jobId': 'a'}", b'{"jobId": "a",}', b"{jobId: 1}", b"\xff\xfe",
                                  b'{"jobId": "a"} x', b"[" * 100000, b"nul", b"NaN-"])
def test_malformed_json(client, path, data):
    response = client.post(path, data=data, content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "InvalidRequestException" and body["code"] is None
    assert body["message"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize("path", [LIST, COUNT])
@pytest.mark.parametrize("body", [[], [{"jobId": "a"}], "x", 5, 1.5, True])
def test_body_must_be_an_object(client, path, body):
    assert_error(client.post(path, json=body), 400,
                 'The job query must be a JSON object, e.g. {"noRetriesLeft": true}')


WRONG_TYPES = [
    ({"jobIds": "x"}, "jobIds: Not a valid list."),
    ({"jobIds": {"a": 1}}, "jobIds: Not a valid list."),
    ({"jobIds": [1]}, "jobIds.0: Not a valid string."),
    ({"processInstanceIds": "pi"}, "processInstanceIds: Not a valid list."),
    ({"tenantIdIn": "t1"}, "tenantIdIn: Not a valid list."),
    ({"tenantIdIn": [None]}, "tenantIdIn.0: Field may not be null."),
    ({"jobId": 5}, "jobId: Not a valid string."),
    ({"jobId": ["a"]}, "jobId: Not a valid string."),
    ({"jobDefinitionId": True}, "jobDefinitionId: Not a valid string."),
    ({"activityId": {}}, "activityId: Not a valid string."),
    ({"exceptionMessage": 1}, "exceptionMessage: Not a valid string."),
    ({"priorityHigherThanOrEquals": "abc"}, "priorityHigherThanOrEquals: Not a valid integer."),
    ({"priorityHigherThanOrEquals": True}, "priorityHigherThanOrEquals: Not a valid integer."),
    ({"priorityHigherThanOrEquals": [1]}, "priorityHigherThanOrEquals: Not a valid integer."),
    ({"priorityLowerThanOrEquals": 2**63}, "priorityLowerThanOrEquals: Must be a 64-bit integer."),
    ({"priorityLowerThanOrEquals": -(2**63) - 1}, "priorityLowerThanOrEquals: Must be a 64-bit integer."),
    ({"priorityLowerThanOrEquals": 10**30}, "priorityLowerThanOrEquals: Must be a 64-bit integer."),
    ({"timers": 5}, "timers: Not a valid boolean."),
    ({"timers": "yes"}, "timers: Not a valid boolean."),
    ({"suspended": 1}, "suspended: Not a valid boolean."),
    ({"active": 0}, "active: Not a valid boolean."),
    ({"executable": 1.0}, "executable: Not a valid boolean."),
    ({"acquired": []}, "acquired: Not a valid boolean."),
    ({"withoutTenantId": "null"}, "withoutTenantId: Not a valid boolean."),
    ({"dueDates": "x"}, "dueDates: Not a valid list."),
    ({"dueDates": {"operator": "gt", "value": DATE}}, "dueDates: Not a valid list."),
    ({"dueDates": [{"operator": 5, "value": DATE}]}, "dueDates.0.operator: Not a valid string."),
    ({"createTimes": 5}, "createTimes: Not a valid list."),
    ({"sorting": "x"}, "sorting: Not a valid list."),
    ({"sorting": {"sortBy": "jobId", "sortOrder": "asc"}}, "sorting: Not a valid list."),
    ({"sorting": [{"sortBy": 5, "sortOrder": "asc"}]}, "sorting.0.sortBy: Not a valid string."),
    ({"sortBy": 5, "sortOrder": "asc"}, "sortBy: Not a valid string."),
    ({"sortBy": "jobId", "sortOrder": ["asc"]}, "sortOrder: Not a valid string."),
    ({"jobId": "a\u0000b"}, "jobId: Must not contain NUL characters."),
    ({"jobIds": ["\u0000"]}, "jobIds.0: Must not contain NUL characters."),
    ({"tenantIdIn": ["t\u0000"]}, "tenantIdIn.0: Must not contain NUL characters."),
]


@pytest.mark.parametrize("body, message", WRONG_TYPES, ids=[json.dumps(body)[:60] for body, _ in WRONG_TYPES])
def test_wrong_json_types(client, body, message):
    for response in post_and_count(client, body):
        assert_error(response, 400, message)


@pytest.mark.parametrize("body, prefix", [
    ({"dueDates": [5]}, "dueDates.0"),
    ({"dueDates": ["gt_x"]}, "dueDates.0"),
    ({"sorting": ["jobId"]}, "sorting.0"),
    ({"sorting": [None]}, "sorting.0"),
])
def test_wrong_json_types_in_nested_objects_name_the_element(client, body, prefix):
    response = client.post(LIST, json=body)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(prefix)


def test_several_wrong_types_are_all_reported(client):
    message = client.post(LIST, json={"jobId": 5, "timers": "x", "jobIds": "y"}).get_json()["message"]
    for part in ("jobId: Not a valid string.", "timers: Not a valid boolean.", "jobIds: Not a valid list."):
        assert part in message


def test_lone_surrogate_in_json(client):
    data = b'{"jobId": "\\ud800"}'
    for path in (LIST, COUNT):
        assert_error(client.post(path, data=data, content_type="application/json"), 400,
                     "jobId: Must be valid Unicode text (no lone surrogates).")


def test_nul_in_get_parameter(client):
    for response in get_and_count(client, {"jobId": "a\u0000"}):
        assert_error(response, 400, "jobId: Must not contain NUL characters.")
    for response in get_and_count(client, {"tenantIdIn": "t1,\u0000"}):
        assert_error(response, 400, "tenantIdIn.1: Must not contain NUL characters.")


def test_json_coercions_that_jackson_also_makes(client, make_jobs):
    make_jobs({"id": "p", "priority": 7})
    assert ids(client.post(LIST, json={"priorityHigherThanOrEquals": "7"})) == ["p"]
    assert ids(client.post(LIST, json={"priorityHigherThanOrEquals": 7.0})) == ["p"]
    assert ids(client.post(LIST, json={"noRetriesLeft": "false"})) == ["p"]
    assert ids(client.post(LIST, json={"suspended": "true"})) == []


def test_unknown_properties_are_ignored(client, two_jobs):
    body = {"foo": 1, "bar": {"baz": [None]}, "jobQuery": {"x": 1}, "firstResult": "x", "orQueries": []}
    assert ids(client.post(LIST, json=body)) == ["a", "b"]
    assert client.post(COUNT, json=body).get_json() == {"count": 2}
    assert ids(client.get(LIST, query_string={"foo": "bar", "jobIdz": "x", "withoutTenantIdx": "maybe"})) == ["a", "b"]


def test_nulls_mean_absent(client, two_jobs):
    body = {name: None for name in ("jobId", "jobIds", "processInstanceIds", "tenantIdIn", "dueDates",
                                    "createTimes", "sorting", "sortBy", "sortOrder", "timers", "messages",
                                    "priorityHigherThanOrEquals", "suspended", "withoutTenantId")}
    assert ids(client.post(LIST, json=body)) == ["a", "b"]


def test_repeated_and_comma_lists_are_merged(client, make_jobs):
    make_jobs({"id": "x1", "tenantId": "a"}, {"id": "x2", "tenantId": "b"}, {"id": "x3", "tenantId": "c"},
              {"id": "x4", "tenantId": "d"})
    assert ids(client.get(f"{LIST}?tenantIdIn=a&tenantIdIn=b")) == ["x1", "x2"]
    assert ids(client.get(f"{LIST}?tenantIdIn=a,c&tenantIdIn=d")) == ["x1", "x3", "x4"]
    assert ids(client.get(f"{LIST}?jobIds=x1&jobIds=x2,x3")) == ["x1", "x2", "x3"]
    assert ids(client.get(f"{LIST}?processInstanceIds=p&processInstanceIds=q")) == []
    assert client.get(f"{COUNT}?tenantIdIn=a&tenantIdIn=b").get_json() == {"count": 2}
    # Items are not trimmed (StringListConverter)
    assert ids(client.get(f"{LIST}?tenantIdIn=a,%20b")) == ["x1"]


# ---------------------------------------------------------------- single job


@pytest.mark.parametrize("base", BASES)
def test_unknown_job_id_is_404(client, base):
    assert_error(client.get(f"{base}/job/nope"), 404, "Job with id nope does not exist")


@pytest.mark.parametrize("job_id", ["%00", "a%00b", "%ED%A0%80", "x" * 5000])
def test_odd_job_ids_are_404(client, job_id):
    response = client.get(f"{BASE}/job/{job_id}")
    assert response.status_code == 404
    assert_error_shape(response)


def test_job_by_id(client, make_jobs):
    created = make_jobs({"id": "one", "tenantId": "t"})[0]
    for base in BASES:
        response = client.get(f"{base}/job/one")
        assert response.status_code == 200
        assert response.get_json() == created


# ---------------------------------------------------------------- garbage in: nothing may 500


DEEP = b"[" * 100000
GARBAGE = [
    ("get", "/job?firstResult=-1", {}),
    ("get", "/job?maxResults=x", {}),
    ("get", "/job?maxResults=" + "9" * 5000, {}),
    ("get", "/job?firstResult=" + "1" * 20, {}),
    ("get", "/job?dueDates=gt", {}),
    ("get", "/job?dueDates=gt_x", {}),
    ("get", "/job?dueDates=gt_%00", {}),
    ("get", "/job?createTimes=", {}),
    ("get", "/job?createTimes=lt_-62135596800001", {}),
    ("get", "/job?createTimes=lt_9999-12-31T23:59:59.999-2359", {}),
    ("get", "/job?dueDates=gt_0001-01-01T00:00:00.000%2B2359", {}),
    ("get", "/job?withException=maybe", {}),
    ("get", "/job?priorityHigherThanOrEquals=1e3", {}),
    ("get", "/job?priorityHigherThanOrEquals=" + "9" * 5000, {}),
    ("get", "/job?sortBy=x&sortOrder=y", {}),
    ("get", "/job?sortBy=jobId", {}),
    ("get", "/job?sortBy=%00&sortOrder=asc", {}),
    ("get", "/job?jobId=%00", {}),
    ("get", "/job?jobIds=a,%00", {}),
    ("get", "/job?tenantIdIn=%00", {}),
    ("get", "/job?timers=true&messages=true", {}),
    ("get", "/job/count?dueDates=lt_invalid", {}),
    ("get", "/job/count?active=2", {}),
    ("get", "/job/count?executionId=%00", {}),
    ("get", "/job/%00", {}),
    ("get", "/job/%ED%A0%80", {}),
    ("post", "/job", {"data": b"{"}),
    ("post", "/job", {"data": DEEP}),
    ("post", "/job", {"data": b'{"a":' * 50000}),
    ("post", "/job", {"data": b"\xff\xfe\x00"}),
    ("post", "/job", {"data": b'{"jobId": "\\ud800"}'}),
    ("post", "/job", {"data": b'{"priorityHigherThanOrEquals": ' + b"9" * 5000 + b"}"}),
    ("post", "/job", {"data": b'{"priorityHigherThanOrEquals": 1e400}'}),
    ("post", "/job", {"data": b'{"priorityHigherThanOrEquals": NaN}'}),
    ("post", "/job", {"data": b'{"priorityHigherThanOrEquals": -Infinity}'}),
    ("post", "/job", {"json": []}),
    ("post", "/job", {"json": "x"}),
    ("post", "/job", {"json": 5}),
    ("post", "/job", {"json": {"jobIds": {"a": 1}}}),
    ("post", "/job", {"json": {"jobIds": [[]]}}),
    ("post", "/job", {"json": {"dueDates": [{"operator": None, "value": None}]}}),
    ("post", "/job", {"json": {"dueDates": [{"operator": "gt", "value": -62135596800001}]}}),
    ("post", "/job", {"json": {"dueDates": [{"operator": "gt", "value": -253402300799999}]}}),
    ("post", "/job", {"json": {"dueDates": [{"operator": "gt", "value": 10**400}]}}),
    ("post", "/job", {"json": {"dueDates": [{"operator": "gt", "value": "0001-01-01T00:00:00.000+0100"}]}}),
    ("post", "/job", {"json": {"dueDates": [None]}}),
    ("post", "/job", {"json": {"dueDates": [[]]}}),
    ("post", "/job", {"json": {"createTimes": [{"operator": ["gt"], "value": DATE}]}}),
    ("post", "/job", {"json": {"sorting": [None]}}),
    ("post", "/job", {"json": {"sorting": [[]]}}),
    ("post", "/job", {"json": {"sorting": [{"sortBy": "jobId", "sortOrder": "asc"}, {"sortOrder": "desc"}]}}),
    ("post", "/job", {"json": {"sorting": [{"sortBy": "\u0000", "sortOrder": "asc"}]}}),
    ("post", "/job", {"json": {"sortBy": ["x"], "sortOrder": {}}}),
    ("post", "/job", {"json": {"jobId": "\u0000"}}),
    ("post", "/job", {"json": {"exceptionMessage": "\u0000"}}),
    ("post", "/job", {"json": {"timers": True, "messages": True}}),
    ("post", "/job?maxResults=-5", {"json": {}}),
    ("post", "/job?firstResult=abc", {"json": {}}),
    ("post", "/job/count", {"data": b"{"}),
    ("post", "/job/count", {"data": DEEP}),
    ("post", "/job/count", {"json": {"tenantIdIn": [1, None]}}),
    ("post", "/job/count", {"json": {"processInstanceIds": ["\u0000"]}}),
    ("post", "/job/count", {"data": b'{"processInstanceId": "\\udfff"}'}),
    ("post", "/job/count", {"json": {"sorting": [{"sortOrder": "asc"}]}}),
    ("delete", "/job", {}),
    ("put", "/job/count", {"json": {}}),
    ("patch", "/job/abc", {"json": {}}),
    ("get", "/job/count/x", {}),
    ("get", "/jobs", {}),
]


def _ingest_garbage():
    item = {"handlerType": "demo.noop"}
    return [
        ("post", "/api/jobs", {"data": b"{"}),
        ("post", "/api/jobs", {"data": b""}),
        ("post", "/api/jobs", {"data": DEEP}),
        ("post", "/api/jobs", {"data": b"[" + b'{"a":' * 50000}),
        ("post", "/api/jobs", {"data": b"\xff"}),
        ("post", "/api/jobs", {"data": b'[{"handlerType": "demo.noop", "tenantId": "\\ud800"}]'}),
        ("post", "/api/jobs", {"data": b'[{"handlerType": "demo.noop", "handlerConfiguration": {"\\ud800": 1}}]'}),
        ("post", "/api/jobs", {"data": b'[{"handlerType": "demo.noop", "priority": 1e400}]'}),
        ("post", "/api/jobs", {"data": b'[{"handlerType": "demo.noop", "retries": NaN}]'}),
        ("post", "/api/jobs", {"json": {}}),
        ("post", "/api/jobs", {"json": []}),
        ("post", "/api/jobs", {"json": "x"}),
        ("post", "/api/jobs", {"json": None}),
        ("post", "/api/jobs", {"json": [1]}),
        ("post", "/api/jobs", {"json": [None]}),
        ("post", "/api/jobs", {"json": [[]]}),
        ("post", "/api/jobs", {"json": [{}]}),
        ("post", "/api/jobs", {"json": [{"handlerType": None}]}),
        ("post", "/api/jobs", {"json": [{"handlerType": 5}]}),
        ("post", "/api/jobs", {"json": [{"handlerType": ""}]}),
        ("post", "/api/jobs", {"json": [{"handlerType": "x" * 256}]}),
        ("post", "/api/jobs", {"json": [{**item, "id": "\u0000"}]}),
        ("post", "/api/jobs", {"json": [{**item, "id": "x" * 65}]}),
        ("post", "/api/jobs", {"json": [{**item, "id": ""}]}),
        ("post", "/api/jobs", {"json": [{**item, "id": 5}]}),
        ("post", "/api/jobs", {"json": [{**item, "id": "a"}, {**item, "id": "a"}]}),
        ("post", "/api/jobs", {"json": [{**item, "type": "cron"}]}),
        ("post", "/api/jobs", {"json": [{**item, "type": None}]}),
        ("post", "/api/jobs", {"json": [{**item, "retries": -1}]}),
        ("post", "/api/jobs", {"json": [{**item, "retries": 2**31}]}),
        ("post", "/api/jobs", {"json": [{**item, "retries": "many"}]}),
        ("post", "/api/jobs", {"json": [{**item, "retries": True}]}),
        ("post", "/api/jobs", {"json": [{**item, "priority": 2**63}]}),
        ("post", "/api/jobs", {"json": [{**item, "priority": None}]}),
        ("post", "/api/jobs", {"json": [{**item, "suspended": "maybe"}]}),
        ("post", "/api/jobs", {"json": [{**item, "suspended": None}]}),
        ("post", "/api/jobs", {"json": [{**item, "dueDate": "2016-13-45T13:33:42.165+0100"}]}),
        ("post", "/api/jobs", {"json": [{**item, "dueDate": -62135596800001}]}),
        ("post", "/api/jobs", {"json": [{**item, "dueDate": 1.5}]}),
        ("post", "/api/jobs", {"json": [{**item, "dueDate": True}]}),
        ("post", "/api/jobs", {"json": [{**item, "dueDate": "0001-01-01T00:00:00.000+0100"}]}),
        ("post", "/api/jobs", {"json": [{**item, "createTime": "x"}]}),
        ("post", "/api/jobs", {"json": [{**item, "createTime": 10**20}]}),
        ("post", "/api/jobs", {"json": [{**item, "handlerConfiguration": "x"}]}),
        ("post", "/api/jobs", {"json": [{**item, "handlerConfiguration": [1]}]}),
        ("post", "/api/jobs", {"json": [{**item, "exceptionMessage": "x" * 4001}]}),
        ("post", "/api/jobs", {"json": [{**item, "exceptionMessage": "\u0000"}]}),
        ("post", "/api/jobs", {"json": [{**item, "exceptionStacktrace": "a\u0000"}]}),
        ("post", "/api/jobs", {"json": [{**item, "tenantId": ""}]}),
        ("post", "/api/jobs", {"json": [{**item, "tenantId": "x" * 65}]}),
        ("post", "/api/jobs", {"json": [{**item, "jobDefinitionId": 5}]}),
        ("post", "/api/jobs", {"json": [{**item, "processDefinitionKey": "\u0000"}]}),
        ("post", "/api/jobs", {"json": [{**item, "activityId": ["a"]}]}),
        ("post", "/api/jobs", {"json": [item] * 10001}),
        ("get", "/api/jobs", {}),
        ("put", "/api/jobs", {"json": [item]}),
    ]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("method, path, kwargs", GARBAGE, ids=[f"{m} {p[:60]} {str(k)[:40]}" for m, p, k in GARBAGE])
def test_garbage_in_to_the_job_query(client, base, method, path, kwargs):
    if "data" in kwargs:
        kwargs = {**kwargs, "content_type": "application/json"}
    response = getattr(client, method)(base + path, **kwargs)
    assert 400 <= response.status_code < 500
    assert_error_shape(response)


INGEST_GARBAGE = _ingest_garbage()


@pytest.mark.parametrize("method, path, kwargs", INGEST_GARBAGE,
                         ids=[f"{m} {str(k)[:70]}" for m, p, k in INGEST_GARBAGE])
def test_garbage_in_to_ingestion(client, app, method, path, kwargs):
    if "data" in kwargs:
        kwargs = {**kwargs, "content_type": "application/json"}
    response = getattr(client, method)(path, **kwargs)
    assert 400 <= response.status_code < 500
    assert_error_shape(response)
    # All or nothing: nothing was stored.
    assert client.get(f"{BASE}/job/count").get_json() == {"count": 0}
