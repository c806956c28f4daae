"""GET /engine, GET /version, the named-engine prefix and trailing slashes (spec C.1, C.2, A18).

Authentication is off here (the suite's app); tests/security/test_engines_auth.py has the
answers with it on.
"""

import pytest

BASE = "/engine-rest"


def test_engine_list_names_the_default_engine(client):
    for path in (f"{BASE}/engine", f"{BASE}/engine/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "application/json"
        assert response.get_json() == [{"name": "default"}]


def test_the_engine_list_is_not_served_under_an_engine(client):
    # Camunda: "You cannot prepend /engine/{name} to this method".
    assert client.get(f"{BASE}/engine/default/engine").status_code == 404


@pytest.mark.parametrize("path", ["/version", "/version/", "/engine/default/version", "/engine/default/version/"])
def test_version_reports_the_camunda_api_version_we_implement(client, path):
    response = client.get(BASE + path)
    assert response.status_code == 200
    assert response.get_json() == {"version": "7.24.0"}


def test_version_under_an_unknown_engine_still_answers(client):
    # Camunda's VersionRestService never asks for its engine (C.1).
    assert client.get(f"{BASE}/engine/nosuch/version").get_json() == {"version": "7.24.0"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/job"), ("POST", "/job/count"), ("GET", "/job/abc"), ("PUT", "/job/abc/retries"),
    ("GET", "/batch/statistics/"), ("GET", "/job-definition"),
])
def test_an_unknown_engine_is_no_process_engine_available(client, method, path):
    response = client.open(f"{BASE}/engine/nosuch{path}", method=method, json={"retries": 1})
    assert response.status_code == 400
    assert response.get_json() == {"type": "InvalidRequestException", "message": "No process engine available",
                                   "code": None}


def test_an_unknown_engine_with_an_unknown_path_or_method_is_routing_s_answer(client):
    assert client.get(f"{BASE}/engine/nosuch/no-such-resource").status_code == 404
    assert client.get(f"{BASE}/engine/nosuch").status_code == 404
    assert client.get(f"{BASE}/engine/nosuch/job//count").status_code < 500
    response = client.patch(f"{BASE}/engine/nosuch/job/count")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_an_unknown_engine_writes_nothing(client, make_jobs):
    job = make_jobs({"retries": 0})[0]
    assert client.put(f"{BASE}/engine/other/job/{job['id']}/retries", json={"retries": 5}).status_code == 400
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["retries"] == 0


def test_every_route_answers_with_a_trailing_slash_and_no_redirect(client, make_jobs):
    job = make_jobs({"retries": 0})[0]
    for prefix in (BASE, f"{BASE}/engine/default"):
        assert client.get(f"{prefix}/job/").get_json()[0]["id"] == job["id"]
        assert client.get(f"{prefix}/job/{job['id']}/").get_json()["id"] == job["id"]
        assert client.post(f"{prefix}/job/count/", json={"noRetriesLeft": True}).get_json() == {"count": 1}
        assert client.get(f"{prefix}/batch/statistics/").status_code == 200
        assert client.get(f"{prefix}/batch/statistics/count/").get_json() == {"count": 0}
    response = client.put(f"{BASE}/engine/default/job/{job['id']}/retries/", json={"retries": 4})
    assert response.status_code == 204  # a PUT with its body, not a 308 to the other spelling
    assert client.get(f"{BASE}/job/{job['id']}").get_json()["retries"] == 4
    # The batch resource's /statistics is not read as a batch id.
    assert client.get(f"{BASE}/batch/statistics/").get_json() == []


def test_a_wrong_method_with_a_trailing_slash_is_still_405(client):
    assert client.patch(f"{BASE}/job/count/").status_code == 405
