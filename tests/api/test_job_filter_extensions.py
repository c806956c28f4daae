"""Our job query extensions (spec A18): exceptionMessageLike, retrying, batchId, and the
createTime and batchId sort keys, on GET/POST /job, both counts and the jobQuery of
POST /job/retries."""

import pytest

from tests.api.job_query_support import BASE, BASES, assert_error, ids, query

MESSAGES = {
    "refused": "Connection refused: db-1:5432",
    "refused2": "connect failed: Connection refused (os error 111)",
    "timeout": "Read timed out after 30s",
    "percent": "Disk 100% full",
    "underscore": "no such key: user_id",
}


@pytest.fixture
def failed(make_jobs):
    """One job per message (retries 2), plus a job without exception and a failed job at 0 retries."""
    jobs = make_jobs(*({"exceptionMessage": text, "retries": 2} for text in MESSAGES.values()))
    by_name = dict(zip(MESSAGES, (job["id"] for job in jobs)))
    by_name["clean"] = make_jobs({"retries": 3})[0]["id"]
    by_name["dead"] = make_jobs({"exceptionMessage": "Connection refused: db-2", "retries": 0})[0]["id"]
    by_name["trace_only"] = make_jobs({"exceptionStacktrace": "java.lang.Error\n\tat x", "retries": 1})[0]["id"]
    return by_name


def like(client, pattern, base=BASE):
    return set(query(client, {"exceptionMessageLike": pattern}, base=base))


def test_exception_message_like_with_a_leading_wildcard(client, failed):
    for base in BASES:
        assert like(client, "%Connection refused%", base) == {failed["refused"], failed["refused2"], failed["dead"]}
    assert like(client, "Connection refused%") == {failed["refused"], failed["dead"]}
    assert like(client, "%(os error 111)") == {failed["refused2"]}


def test_exception_message_like_is_case_sensitive_as_camunda_on_both_databases(client, failed):
    assert like(client, "%connection refused%") == set()
    assert like(client, "connect failed%") == {failed["refused2"]}


def test_exception_message_like_without_wildcards_is_an_exact_match(client, failed):
    assert like(client, MESSAGES["timeout"]) == {failed["timeout"]}
    assert like(client, "Read timed out") == set()


def test_underscore_is_one_character_and_a_backslash_escapes(client, failed):
    assert like(client, "Read timed out after __s") == {failed["timeout"]}
    assert like(client, "Read timed out after _s") == set()
    assert like(client, "%100\\%%") == {failed["percent"]}
    assert like(client, "%user\\_id") == {failed["underscore"]}
    assert like(client, "%1\\%%") == set()  # "100% full": no literal "1%"
    assert like(client, "%") == {failed[name] for name in (*MESSAGES, "dead")}  # null messages never match


def test_glob_characters_are_literal(client, make_jobs):
    job = make_jobs({"exceptionMessage": "a*b?c[d]"})[0]["id"]
    make_jobs({"exceptionMessage": "aXbYc[d]"})
    assert like(client, "a*b?c[d]") == {job}
    assert like(client, "%[d]") == {job, ids(client.get(f"{BASE}/job", query_string={
        "exceptionMessage": "aXbYc[d]"}))[0]}


def test_a_pattern_ending_in_the_escape_character_is_a_400(client, failed):
    for response in (client.get(f"{BASE}/job", query_string={"exceptionMessageLike": "abc\\"}),
                     client.post(f"{BASE}/job/count", json={"exceptionMessageLike": "abc\\"})):
        assert_error(response, 400, "Invalid exceptionMessageLike 'abc\\': must not end with the escape "
                                    "character \\ (write \\\\ for a literal one)")
    assert like(client, "%\\\\") == set()  # an escaped backslash is fine


def test_exception_message_like_refuses_a_wrong_type(client):
    response = client.post(f"{BASE}/job", json={"exceptionMessageLike": 5})
    assert response.status_code == 400
    assert "exceptionMessageLike" in response.get_json()["message"]


def test_retrying_is_failed_with_retries_left(client, failed):
    expected = {failed[name] for name in (*MESSAGES, "trace_only")}
    for base in BASES:
        assert set(query(client, {"retrying": "true"}, body={"retrying": True}, base=base)) == expected
    # true-only, as Camunda's flags: false is no filter.
    assert len(query(client, {"retrying": "false"}, body={"retrying": False})) == len(failed)
    assert set(query(client, {"retrying": "true", "exceptionMessageLike": "%refused%"},
                     body={"retrying": True, "exceptionMessageLike": "%refused%"})) == {
        failed["refused"], failed["refused2"]}


def test_retrying_refuses_a_non_boolean(client):
    assert client.get(f"{BASE}/job", query_string={"retrying": "yes"}).status_code == 400
    assert client.post(f"{BASE}/job", json={"retrying": "yes"}).status_code == 400


def _batch(client, job_ids):
    response = client.post(f"{BASE}/job/retries", json={"jobIds": job_ids, "retries": 1})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def test_batch_id_filter_and_sort_key(client, make_jobs):
    jobs = [job["id"] for job in make_jobs({}, {}, {})]
    first, second = _batch(client, jobs[:1]), _batch(client, jobs[1:])
    seed_of = {}
    for batch_id in (first, second):
        found = query(client, {"batchId": batch_id})
        assert len(found) == 1  # the seed job (the dispatcher is a recorder: nothing ran)
        seed_of[batch_id] = found[0]
        assert client.get(f"{BASE}/job/{found[0]}").get_json()["batchId"] == batch_id
    assert query(client, {"batchId": "no-such-batch"}) == []
    ordered = ids(client.get(f"{BASE}/job", query_string={"sortBy": "batchId", "sortOrder": "asc"}))
    with_batch = [job for job in ordered if job in seed_of.values()]
    assert with_batch == [seed_of[key] for key in sorted(seed_of)]
    assert ordered[:2] == with_batch  # NULLs last ascending (B.1.6)
    descending = ids(client.post(f"{BASE}/job", json={"sorting": [{"sortBy": "batchId", "sortOrder": "desc"}]}))
    assert descending[-2:] == with_batch[::-1]


def test_create_time_sort_key(client, make_jobs):
    created = make_jobs({"createTime": "2026-01-03T00:00:00.000+0000"}, {"createTime": "2026-01-01T00:00:00.000+0000"},
                        {"createTime": "2026-01-02T00:00:00.000+0000"})
    by_time = [job["id"] for job in sorted(created, key=lambda job: job["createTime"])]
    assert ids(client.get(f"{BASE}/job", query_string={"sortBy": "createTime", "sortOrder": "asc"})) == by_time
    assert ids(client.post(f"{BASE}/job", json={"sorting": [{"sortBy": "createTime", "sortOrder": "desc"}]})) \
        == by_time[::-1]
    # Keyset paging (our page token) works on the new key too.
    first = client.get(f"{BASE}/job", query_string={"sortBy": "createTime", "sortOrder": "asc", "maxResults": 2})
    token = first.headers["X-Next-Page-Token"]
    rest = client.get(f"{BASE}/job", query_string={"sortBy": "createTime", "sortOrder": "asc", "maxResults": 2,
                                                   "pageToken": token})
    assert ids(first) + ids(rest) == by_time


def test_an_unknown_sort_key_still_names_the_new_ones_nowhere_else(client):
    response = client.get(f"{BASE}/job", query_string={"sortBy": "exceptionMessage", "sortOrder": "asc"})
    assert response.status_code == 400


def test_the_job_query_of_set_retries_takes_the_new_filters(client, failed):
    response = client.post(f"{BASE}/job/retries", json={
        "jobQuery": {"exceptionMessageLike": "%Connection refused%", "retrying": True}, "retries": 5})
    assert response.status_code == 200, response.get_json()
    batch = client.get(f"{BASE}/history/batch/{response.get_json()['id']}").get_json()
    assert batch["elements"] == 2  # refused, refused2; "dead" has no retries left
    response = client.post(f"{BASE}/job/retries", json={"jobQuery": {"exceptionMessageLike": "x\\"}, "retries": 5})
    assert response.status_code == 400
    assert "exceptionMessageLike" in response.get_json()["message"]
