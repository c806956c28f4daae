"""The identity REST API (/user, /group, /tenant, /authorization, /identity) over HTTP with
authentication on: every write endpoint without credentials, with a wrong password, as a user
without the permission (nothing written each time) and as the administrator; then the shapes,
filters, Camunda's precedence of authorizations, and bad input."""

import pytest

from app.extensions import db
from app.services.identity import authorizations, groups, tenants
from tests.security.conftest import ADMIN, ADMIN_PASSWORD, BASE, add_user, basic, identity_state

PLAIN = basic("plain", "pw")


@pytest.fixture
def world(secure_app, admin):
    """alice in group sales; tenant tenantOne with sales; a user "plain" with no rights beyond
    itself; one authorization (sales may READ batches). Returns that authorization's id."""
    add_user(secure_app, "plain", "pw")
    add_user(secure_app, "alice", "pw", first_name="Alice", last_name="Liddell", email="alice@example.com")
    with secure_app.app_context():
        groups.create_group(None, {"id": "sales", "name": "Sales", "type": "WORKFLOW"})
        groups.add_member(None, "sales", "alice")
        tenants.create_tenant(None, {"id": "tenantOne", "name": "Tenant One"})
        tenants.add_group_member(None, "tenantOne", "sales")
        row = authorizations.create_authorization(None, {
            "type": 1, "group_id": "sales", "resource_type": 13, "resource_id": "*", "permissions": ["READ"]})
        db.session.remove()
    return row["id"]


def writes(authorization_id):
    """(method, path, body, status for "plain", status for the admin, what "plain" lacks)."""
    user_create = {"profile": {"id": "newuser"}, "credentials": {"password": "x"}}
    authorization = {"type": 1, "permissions": ["READ"], "userId": "plain", "resourceType": 1, "resourceId": "*"}
    return [
        ("POST", "/user/create", user_create, 403, 204, ("CREATE", "User", None)),
        ("PUT", "/user/alice/profile", {"firstName": "A"}, 404, 204, None),
        ("PUT", "/user/alice/credentials", {"password": "x", "authenticatedUserPassword": "pw"}, 404, None, None),
        ("DELETE", "/user/alice", None, 403, 204, ("DELETE", "User", "alice")),
        ("POST", "/group/create", {"id": "newgroup"}, 403, 204, ("CREATE", "Group", None)),
        ("PUT", "/group/sales", {"name": "S"}, 404, 204, None),
        ("DELETE", "/group/sales", None, 403, 204, ("DELETE", "Group", "sales")),
        ("PUT", "/group/sales/members/plain", None, 403, 204, ("CREATE", "Group membership", "sales")),
        ("DELETE", "/group/sales/members/alice", None, 403, 204, ("DELETE", "Group membership", "sales")),
        ("POST", "/tenant/create", {"id": "tenantTwo"}, 403, 204, ("CREATE", "Tenant", None)),
        ("PUT", "/tenant/tenantOne", {"name": "T"}, 404, 204, None),
        ("DELETE", "/tenant/tenantOne", None, 403, 204, ("DELETE", "Tenant", "tenantOne")),
        ("PUT", "/tenant/tenantOne/user-members/plain", None, 403, 204, ("CREATE", "TenantMembership", "tenantOne")),
        ("DELETE", "/tenant/tenantOne/group-members/sales", None, 403, 204,
         ("DELETE", "TenantMembership", "tenantOne")),
        ("POST", "/authorization/create", authorization, 403, 200, ("CREATE", "Authorization", None)),
        ("PUT", f"/authorization/{authorization_id}", {"groupId": "sales", "resourceId": "*"}, 404, 204, None),
        ("DELETE", f"/authorization/{authorization_id}", None, 404, 204, None),
    ]


ENDPOINTS = [entry[:2] for entry in writes("AUTH")]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_write_endpoints_refuse_without_the_right_and_write_nothing(secure_app, secure_client, world, method, path):
    (entry,) = [entry for entry in writes(world) if entry[0] == method and entry[1] == path.replace("AUTH", world)]
    method, path, body, plain_status, admin_status, missing = entry
    before = identity_state(secure_app)
    for headers in ({}, basic("plain", "wrong"), basic("nobody", "pw")):
        assert secure_client.open(f"{BASE}{path}", method=method, json=body, headers=headers).status_code == 401
    refused = secure_client.open(f"{BASE}{path}", method=method, json=body, headers=PLAIN)
    assert refused.status_code == plain_status, refused.get_json()
    if missing is not None:
        permission, resource, resource_id = missing
        where = f"{resource_id}' of type '" if resource_id else ""
        assert refused.get_json() == {
            "type": "AuthorizationException",
            "message": f"The user with id 'plain' does not have '{permission}' permission on resource "
                       f"'{where}{resource}'.",
            "code": 0, "userId": "plain", "resourceName": resource, "resourceId": resource_id,
            "permissionName": permission,
            "missingAuthorizations": [{"permissionName": permission, "resourceName": resource,
                                       "resourceId": resource_id}],
        }
    assert identity_state(secure_app) == before
    if admin_status is not None:
        accepted = secure_client.open(f"{BASE}{path}", method=method, json=body, headers=basic(ADMIN, ADMIN_PASSWORD))
        assert accepted.status_code == admin_status, accepted.get_json()
        assert identity_state(secure_app) != before


def test_credentials_need_the_callers_own_password(secure_client, world, admin):
    body = {"password": "new"}
    response = secure_client.put(f"{BASE}/user/alice/credentials", json=body, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["message"] == "The given authenticated user password is not valid."
    body["authenticatedUserPassword"] = ADMIN_PASSWORD
    assert secure_client.put(f"{BASE}/user/alice/credentials", json=body, headers=admin).status_code == 204
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "new")).status_code == 200


def test_a_user_may_read_itself_and_change_its_own_password(secure_client, world):
    assert secure_client.get(f"{BASE}/user/plain/profile", headers=PLAIN).get_json() == {
        "id": "plain", "firstName": None, "lastName": None, "email": None}
    assert [user["id"] for user in secure_client.get(f"{BASE}/user", headers=PLAIN).get_json()] == ["plain"]
    response = secure_client.put(f"{BASE}/user/plain/credentials", headers=PLAIN,
                                 json={"password": "pw2", "authenticatedUserPassword": "pw"})
    assert response.status_code == 204
    assert secure_client.get(f"{BASE}/job/count", headers=basic("plain", "pw2")).status_code == 200


def test_queries_show_only_what_the_caller_may_read(secure_client, world):
    for path in ("/group", "/tenant", "/authorization"):
        assert secure_client.get(f"{BASE}{path}", headers=PLAIN).get_json() == []
        assert secure_client.get(f"{BASE}{path}/count", headers=PLAIN).get_json() == {"count": 0}
    # alice is in sales, and a group's members may read it (Camunda's default authorization);
    # the tenant membership of sales lets sales read tenantOne.
    alice = basic("alice", "pw")
    assert [group["id"] for group in secure_client.get(f"{BASE}/group", headers=alice).get_json()] == ["sales"]
    assert [tenant["id"] for tenant in secure_client.get(f"{BASE}/tenant", headers=alice).get_json()] == ["tenantOne"]
    assert secure_client.get(f"{BASE}/group/sales", headers=PLAIN).status_code == 404


def grant(client, admin, **body):
    response = client.post(f"{BASE}/authorization/create", headers=admin, json={"type": 1, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def test_granted_permissions_let_a_user_act(secure_client, world, admin):
    grant(secure_client, admin, userId="plain", resourceType=2, resourceId="*", permissions=["CREATE", "READ"])
    assert secure_client.post(f"{BASE}/group/create", headers=PLAIN, json={"id": "ops"}).status_code == 204
    ids = [group["id"] for group in secure_client.get(f"{BASE}/group", headers=PLAIN).get_json()]
    assert ids == ["camunda-admin", "ops", "sales"]


def test_camundas_precedence_user_before_group_before_global_specific_before_any(secure_client, world, admin):
    read = {"resourceType": 1, "permissions": ["READ"]}
    alice = basic("alice", "pw")

    def visible():
        return [user["id"] for user in secure_client.get(f"{BASE}/user", headers=alice).get_json()]

    assert visible() == ["alice"]
    secure_client.post(f"{BASE}/authorization/create", headers=admin,
                       json={"type": 0, "userId": "*", "resourceId": "*", **read})  # GLOBAL: everybody reads users
    assert visible() == ["admin", "alice", "plain"]
    grant(secure_client, admin, groupId="sales", resourceId="plain", **{**read, "permissions": ["NONE"]})
    secure_client.post(f"{BASE}/authorization/create", headers=admin,
                       json={"type": 2, "groupId": "sales", "resourceId": "plain", **read})  # group revoke beats GLOBAL
    assert visible() == ["admin", "alice"]
    grant(secure_client, admin, userId="alice", resourceId="plain", **read)  # the user's own grant beats the group's
    assert visible() == ["admin", "alice", "plain"]
    secure_client.post(f"{BASE}/authorization/create", headers=admin,
                       json={"type": 2, "userId": "alice", "resourceId": "*", **read})  # specific grant beats user *
    assert visible() == ["alice", "plain"]  # alice keeps herself: ALL on her own user (specific)


def test_authorization_dto_and_check(secure_client, world, admin):
    created = secure_client.post(f"{BASE}/authorization/create", headers=admin, json={
        "type": 1, "permissions": ["READ", "CREATE_BATCH_SET_JOB_RETRIES"], "userId": "plain",
        "resourceType": 13, "resourceId": "*"}).get_json()
    assert list(created) == ["id", "type", "permissions", "userId", "groupId", "resourceType", "resourceId",
                             "removalTime", "rootProcessInstanceId"]
    assert created["permissions"] == ["READ", "CREATE_BATCH_SET_JOB_RETRIES"] and created["groupId"] is None
    assert secure_client.get(f"{BASE}/authorization/{created['id']}", headers=admin).get_json() == created
    revoke = secure_client.post(f"{BASE}/authorization/create", headers=admin, json={
        "type": 2, "permissions": ["DELETE"], "userId": "plain", "resourceType": 13, "resourceId": "b1"}).get_json()
    assert revoke["permissions"] == ["DELETE"]
    every = secure_client.post(f"{BASE}/authorization/create", headers=admin, json={
        "type": 1, "permissions": ["ALL"], "groupId": "sales", "resourceType": 11, "resourceId": "*"}).get_json()
    assert every["permissions"] == ["ALL"]

    def check(headers, **params):
        response = secure_client.get(f"{BASE}/authorization/check", headers=headers, query_string=params)
        return response.status_code, response.get_json()

    assert check(PLAIN, permissionName="READ", resourceName="Batch", resourceType=13) == (
        200, {"permissionName": "READ", "resourceName": "Batch", "resourceId": None, "authorized": True})
    assert check(PLAIN, permissionName="UPDATE", resourceName="Batch", resourceType=13, resourceId="b1")[1][
        "authorized"] is False
    assert check(PLAIN, permissionName="READ", resourceName="Batch", resourceType=13, userId="alice") == (
        403, {"type": "InvalidRequestException", "message": "You must have READ permission for Authorization resource.",
              "code": None})
    assert check(admin, permissionName="READ", resourceName="Batch", resourceType=13, userId="alice")[1][
        "authorized"] is True  # through sales
    assert check(PLAIN, permissionName="RETRY_JOB", resourceName="Batch", resourceType=13)[0] == 400
    assert check(PLAIN, resourceName="Batch", resourceType=13) == (
        400, {"type": "InvalidRequestException", "message": "Query parameter 'permissionName' cannot be null",
              "code": None})


def test_update_and_delete_an_authorization(secure_client, world, admin):
    path = f"{BASE}/authorization/{world}"
    assert secure_client.put(path, headers=admin, json={
        "userId": "plain", "resourceType": 13, "resourceId": "b7", "permissions": ["UPDATE"]}).status_code == 204
    updated = secure_client.get(path, headers=admin).get_json()
    assert (updated["userId"], updated["groupId"], updated["resourceId"], updated["permissions"]) == (
        "plain", None, "b7", ["UPDATE"])
    assert secure_client.delete(path, headers=admin).status_code == 204
    assert secure_client.get(path, headers=admin).status_code == 404


@pytest.mark.parametrize("body, message", [
    ({"type": 1, "permissions": ["RETRY_JOB"], "userId": "u", "resourceType": 13, "resourceId": "*"},
     "The permission 'RETRY_JOB' is not valid for 'BATCH' resource type."),
    ({"type": 0, "permissions": ["READ"], "groupId": "g", "resourceType": 13, "resourceId": "*"},
     "ENGINE-03027 Cannot use 'groupId' for GLOBAL authorization"),
    ({"type": 0, "permissions": ["READ"], "userId": "u", "resourceType": 13, "resourceId": "*"},
     "ENGINE-03028 Illegal value 'u' for userId for GLOBAL authorization. Must be '*'"),
    ({"type": 1, "permissions": ["READ"], "userId": "u", "groupId": "g", "resourceType": 13, "resourceId": "*"},
     "Authorization must either have a 'userId' or a 'groupId'."),
    ({"type": 1, "permissions": ["READ"], "resourceType": 13, "resourceId": "*"},
     "Authorization must either have a 'userId' or a 'groupId'."),
    ({"type": 7, "permissions": ["READ"], "userId": "u", "resourceType": 13, "resourceId": "*"},
     "ENGINE-03025 Unrecognized authorization type '7'. Must be one of ['0', '1', '2']"),
    ({"type": 1, "permissions": ["READ"], "userId": "u", "resourceType": 99, "resourceId": "*"},
     "resourceType 99 is not one of Camunda's resource types (0 to 21)"),
    ({"type": 1, "permissions": ["READ"], "userId": "u", "resourceType": 13},
     "Authorization 'resourceId' cannot be null: use '*' for all resources."),
    ({"type": 1, "userId": "u", "resourceType": 13, "resourceId": "*"},
     'permissions is null: name the permissions, e.g. ["READ"], or ["ALL"]'),
    ({"type": "one", "permissions": ["READ"], "userId": "u", "resourceType": 13, "resourceId": "*"},
     "type: Not a valid integer."),
    (["not", "an", "object"], None),
])
def test_bad_authorizations_are_400_and_write_nothing(secure_app, secure_client, world, admin, body, message):
    before = identity_state(secure_app)
    response = secure_client.post(f"{BASE}/authorization/create", headers=admin, json=body)
    assert response.status_code == 400, response.get_json()
    if message is not None:
        assert response.get_json()["message"] == message
    assert identity_state(secure_app) == before


def test_a_duplicate_authorization_is_400(secure_app, secure_client, world, admin):
    body = {"type": 1, "permissions": ["READ"], "groupId": "sales", "resourceType": 13, "resourceId": "*"}
    response = secure_client.post(f"{BASE}/authorization/create", headers=admin, json=body)
    assert response.status_code == 400 and response.get_json()["type"] == "BadUserRequestException"


@pytest.mark.parametrize("path, body, status, message", [
    ("/user/create", {"profile": {"id": ""}}, 400, "User has an invalid id: '' is not a valid resource identifier."),
    ("/user/create", {"profile": {"id": "x" * 65}}, 400, "User id must be at most 64 characters, got 65"),
    ("/user/create", {"profile": {"id": "a b"}}, 400,
     "User has an invalid id: 'a b' is not a valid resource identifier."),
    ("/user/create", {"profile": {"id": "*"}}, 400, "User has an invalid id: '*' is not a valid resource identifier."),
    ("/user/create", {"profile": {"id": 5}}, 400, "User id must be a string"),
    ("/user/create", {"credentials": {"password": "x"}}, 400,
     "request object must provide profile information with valid id."),
    ("/user/create", {"profile": {"id": "alice"}}, 400, "The user already exists"),
    ("/user/create", {"profile": {"id": "bob", "firstName": "x" * 256}}, 400,
     "profile.firstName: Longer than maximum length 255."),
    ("/user/create", {"profile": {"id": "bob"}, "credentials": {"password": ""}}, 400,
     "credentials.password must not be empty"),
    ("/user/create", {"profile": {"id": "bob"}, "credentials": {"password": "p" * 1025}}, 400,
     "credentials.password: Longer than maximum length 1024."),
    ("/user/create", {"profile": {"id": "bob", "email": "a\u0000b"}}, 400,
     "profile.email: Must not contain NUL characters."),
    ("/group/create", {"name": "no id"}, 400, "Group id is null"),
    ("/group/create", {"id": "sales"}, 400, "The group already exists"),
    ("/tenant/create", {"id": "tenant-one"}, 400,
     "Tenant has an invalid id: 'tenant-one' is not a valid resource identifier."),
    ("/tenant/create", {"id": "tenantOne"}, 400, "The tenant already exists"),
])
def test_bad_identity_bodies_are_4xx_and_write_nothing(secure_app, secure_client, world, admin,
                                                       path, body, status, message):
    before = identity_state(secure_app)
    response = secure_client.post(f"{BASE}{path}", headers=admin, json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["message"] == message
    assert identity_state(secure_app) == before


@pytest.mark.parametrize("method, path, message", [
    ("PUT", "/tenant/nosuch/user-members/alice", "No tenant found with id 'nosuch'."),
    ("PUT", "/tenant/tenantOne/user-members/nobody", "No user found with id 'nobody'."),
    ("PUT", "/tenant/tenantOne/group-members/nogroup", "No group found with id 'nogroup'."),
    ("PUT", "/group/nogroup/members/alice", "No group found with id 'nogroup'."),
    ("PUT", "/group/sales/members/nobody", "No user found with id 'nobody'."),
    ("GET", "/user/nobody/profile", "User with id nobody does not exist"),
    ("GET", "/group/nogroup", "Group with id nogroup does not exist"),
    ("GET", "/tenant/nosuch", "Tenant with id nosuch does not exist"),
    ("GET", "/authorization/nosuch", "Authorization with id nosuch does not exist."),
])
def test_unknown_ids_are_404_and_write_nothing(secure_app, secure_client, world, admin, method, path, message):
    before = identity_state(secure_app)
    response = secure_client.open(f"{BASE}{path}", method=method, headers=admin)
    assert response.status_code == 404
    assert response.get_json() == {"type": "InvalidRequestException", "message": message, "code": None}
    assert identity_state(secure_app) == before


def test_user_shapes_filters_sorting_and_paging(secure_client, world, admin):
    def ids(path, **params):
        response = secure_client.get(f"{BASE}{path}", headers=admin, query_string=params)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()]

    assert secure_client.get(f"{BASE}/user/alice/profile", headers=admin).get_json() == {
        "id": "alice", "firstName": "Alice", "lastName": "Liddell", "email": "alice@example.com"}
    assert ids("/user") == ["admin", "alice", "plain"]
    assert ids("/user", memberOfGroup="sales") == ["alice"]
    assert ids("/user", memberOfTenant="tenantOne") == []  # alice is a tenant member only through sales
    assert ids("/user", firstNameLike="Ali%") == ["alice"]
    assert ids("/user", idIn="plain,admin") == ["admin", "plain"]
    assert ids("/user", sortBy="userId", sortOrder="desc", maxResults=2) == ["plain", "alice"]
    assert ids("/user", sortBy="userId", sortOrder="asc", firstResult=1) == ["alice", "plain"]
    assert secure_client.get(f"{BASE}/user/count", headers=admin, query_string={"id": "alice"}).get_json() == {
        "count": 1}
    bad = secure_client.get(f"{BASE}/user", headers=admin, query_string={"sortBy": "nope", "sortOrder": "asc"})
    assert bad.status_code == 400
    assert bad.get_json()["message"] == "Cannot set query parameter 'sortBy' to value 'nope'"
    assert ids("/group", member="alice") == ["sales"]
    assert secure_client.post(f"{BASE}/group", headers=admin, json={"member": "alice"}).get_json() == [
        {"id": "sales", "name": "Sales", "type": "WORKFLOW"}]
    assert secure_client.post(f"{BASE}/group/count", headers=admin, json={"nameLike": "Sal%"}).get_json() == {
        "count": 1}
    assert ids("/tenant", userMember="alice") == []
    assert ids("/tenant", userMember="alice", includingGroupsOfUser="true") == ["tenantOne"]
    assert ids("/tenant", groupMember="sales") == ["tenantOne"]
    assert secure_client.get(f"{BASE}/tenant/tenantOne", headers=admin).get_json() == {
        "id": "tenantOne", "name": "Tenant One"}
    assert [a["groupId"] for a in secure_client.get(f"{BASE}/authorization", headers=admin, query_string={
        "groupIdIn": "sales", "resourceType": 13}).get_json()] == ["sales"]


def test_profile_update_and_deletes_cascade(secure_app, secure_client, world, admin):
    assert secure_client.put(f"{BASE}/user/alice/profile", headers=admin,
                             json={"firstName": "Al", "lastName": None, "email": "al@example.com"}).status_code == 204
    assert secure_client.get(f"{BASE}/user/alice/profile", headers=admin).get_json() == {
        "id": "alice", "firstName": "Al", "lastName": None, "email": "al@example.com"}
    assert secure_client.delete(f"{BASE}/group/sales", headers=admin).status_code == 204
    state = identity_state(secure_app)
    assert state["identity_group_member"] == [("admin", "camunda-admin")]
    assert [row for row in state["identity_tenant_member"] if "sales" in row] == []
    assert [row for row in state["identity_authorization"] if "sales" in row] == []
    assert secure_client.delete(f"{BASE}/user/nobody", headers=admin).status_code == 204  # Camunda: a no-op


def test_identity_verify_and_groups(secure_client, world, admin):
    def verify(body):
        return secure_client.post(f"{BASE}/identity/verify", headers=PLAIN, json=body)

    assert verify({"username": "alice", "password": "pw"}).get_json() == {
        "authenticatedUser": "alice", "authenticated": True}
    assert verify({"username": "alice", "password": "no"}).get_json() == {
        "authenticatedUser": "alice", "authenticated": False}
    assert verify({"username": "nobody", "password": "no"}).get_json()["authenticated"] is False
    missing = verify({"username": "alice"})
    assert missing.status_code == 400 and missing.get_json()["message"] == "Username and password are required"

    add_user(secure_client.application, "bob", "pw", first_name="Bob")
    secure_client.put(f"{BASE}/group/sales/members/bob", headers=admin)
    info = secure_client.get(f"{BASE}/identity/groups", headers=admin, query_string={"userId": "alice"})
    assert info.get_json() == {
        "groups": [{"id": "sales", "name": "Sales"}],
        "groupUsers": [{"firstName": "Bob", "lastName": None, "displayName": "Bob", "id": "bob"}],
    }
    assert secure_client.get(f"{BASE}/identity/groups", headers=admin).status_code == 400


def test_membership_is_idempotent_and_changes_the_callers_groups_at_once(secure_client, world, admin):
    alice = basic("alice", "pw")
    assert secure_client.get(f"{BASE}/tenant", headers=alice).get_json() != []
    assert secure_client.put(f"{BASE}/group/sales/members/alice", headers=admin).status_code == 204
    assert secure_client.delete(f"{BASE}/group/sales/members/alice", headers=admin).status_code == 204
    # The cached login of alice held group sales; the change applies to her next request.
    assert secure_client.get(f"{BASE}/tenant", headers=alice).get_json() == []
