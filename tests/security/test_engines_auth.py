"""The engine list and unknown engines with authentication on (spec C.2, C.6)."""

from tests.security.conftest import BASE


def test_the_engine_list_needs_no_credentials(secure_client):
    for path in (f"{BASE}/engine", f"{BASE}/engine/"):
        response = secure_client.get(path)
        assert response.status_code == 200
        assert response.get_json() == [{"name": "default"}]


def test_version_needs_credentials(secure_client, admin):
    assert secure_client.get(f"{BASE}/version").status_code == 401
    assert secure_client.get(f"{BASE}/engine/default/version").status_code == 401
    assert secure_client.get(f"{BASE}/version", headers=admin).get_json() == {
        "version": "7.24.0"}


def test_an_unknown_engine_is_404_before_credentials_are_checked(secure_client):
    for path in ("/job", "/version", "/no-such-resource"):
        response = secure_client.get(f"{BASE}/engine/nosuch{path}")
        assert response.status_code == 404, path
        assert "WWW-Authenticate" not in response.headers
        assert response.get_json() == {"type": "InvalidRequestException",
                                       "message": "Process engine nosuch not available", "code": None}


def test_the_default_engine_and_trailing_slashes_still_need_credentials(secure_client):
    for path in ("/engine/default/job", "/engine/default/job/", "/job/", "/engine/default"):
        assert secure_client.get(BASE + path).status_code == 401, path
