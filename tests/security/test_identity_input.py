"""How the identity resources load their input (schemas.identity through ``@arguments``): the
GET conversions with Camunda's ``Cannot set query parameter`` messages, the group query's POST
body with Camunda's sorting checks, and the parameters of ``/authorization/check`` and
``/identity/groups``, all 400s with Camunda's error JSON."""

import pytest

from tests.security.conftest import BASE


def _error(response):
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["type"] == "InvalidRequestException"
    return body["message"]


@pytest.mark.parametrize("path, params, message", [
    ("/authorization", {"type": "one"},
     "Cannot set query parameter 'type' to value 'one': Cannot convert value one to java type java.lang.Integer"),
    ("/authorization/count", {"resourceType": "2147483648"},
     "Cannot set query parameter 'resourceType' to value '2147483648': Cannot convert value 2147483648 "
     "to java type java.lang.Integer"),
    ("/tenant", {"includingGroupsOfUser": "yes"},
     "Cannot set query parameter 'includingGroupsOfUser' to value 'yes': Cannot convert value yes "
     "to java type java.lang.Boolean"),
    ("/group/count", {"sortBy": "id"}, "Only a single sorting parameter specified. sortBy and sortOrder required"),
    ("/user", {"maxResults": "-1"}, "Cannot set query parameter 'maxResults' to value '-1': must not be negative"),
    ("/user", {"id": "a\u0000b"}, "id: Must not contain NUL characters."),
])
def test_bad_get_parameters_are_400(secure_client, admin, path, params, message):
    assert _error(secure_client.get(f"{BASE}{path}", headers=admin, query_string=params)) == message


@pytest.mark.parametrize("body, message", [
    (["member"], 'The group query must be a JSON object, e.g. {"member": "jonny1"}'),
    ({"sortBy": "nope", "sortOrder": "asc"}, "sortBy parameter has invalid value: nope"),
    # As on GET (Camunda's AbstractQueryDto checks the pair for both).
    ({"sortBy": "id"}, "Only a single sorting parameter specified. sortBy and sortOrder required"),
    ({"idIn": "sales"}, "idIn: Not a valid list."),
])
def test_bad_group_query_bodies_are_400(secure_client, admin, body, message):
    assert _error(secure_client.post(f"{BASE}/group/count", headers=admin, json=body)) == message


def test_the_group_query_body_sorts_with_the_sorting_array(secure_client, admin):
    for group_id in ("b", "a", "c"):
        assert secure_client.post(f"{BASE}/group/create", headers=admin, json={"id": group_id}).status_code == 204
    response = secure_client.post(f"{BASE}/group", headers=admin, query_string={"maxResults": 3},
                                  json={"idIn": ["a", "b", "c"], "sorting": [{"sortBy": "id", "sortOrder": "desc"}]})
    assert [group["id"] for group in response.get_json()] == ["c", "b", "a"]


def test_authorization_check_asks_for_the_required_parameters_before_converting(secure_client, admin):
    def check(**params):
        return secure_client.get(f"{BASE}/authorization/check", headers=admin, query_string=params)

    assert _error(check(resourceType="x")) == "Query parameter 'permissionName' cannot be null"
    assert _error(check(permissionName="READ", resourceType="x")) == "Query parameter 'resourceName' cannot be null"
    assert _error(check(permissionName="READ", resourceName="Batch", resourceType="x")) == (
        "Cannot set query parameter 'resourceType' to value 'x': Cannot convert value x to java type java.lang.Integer")


def test_identity_groups_needs_a_user_id(secure_client, admin):
    assert _error(secure_client.get(f"{BASE}/identity/groups", headers=admin)) == "No user id was supplied"


@pytest.mark.parametrize("path, body, message", [
    ("/identity/verify", None, "Username and password are required"),
    ("/identity/verify", [1], 'The body must be a JSON object, e.g. {"username": "jonny1", "password": "s3cret"}'),
    ("/group/create", None,
     'The body must be a JSON object, e.g. {"id": "sales", "name": "Sales", "type": "WORKFLOW"}'),
    ("/user/create", {"profile": "jonny1"},
     'The body must be a JSON object, e.g. {"id": "jonny1", "firstName": "John", "lastName": "Doe", '
     '"email": "john@example.com"}'),
    ("/authorization/create", {"type": 1, "permissions": ["READ", 5], "resourceType": True},
     "permissions.1: Not a valid string.; resourceType: Not a valid integer."),
])
def test_bad_identity_bodies_are_400(secure_client, admin, path, body, message):
    response = secure_client.post(f"{BASE}{path}", headers=admin, json=body) if body is not None else (
        secure_client.post(f"{BASE}{path}", headers=admin))
    assert _error(response) == message
