"""Camunda's identity DTOs: users, groups, tenants, authorizations, ``/identity`` (request loading and writers).

Queries: Camunda's ``UserQueryDto``, ``GroupQueryDto`` (GET parameters and, for groups, the POST
body), ``TenantQueryDto`` and ``AuthorizationQueryDto``: query schemas (schemas.query) whose
result is a :class:`~schemas.query.ResourceQuery` with the ordering already resolved to columns.

Bodies: ``UserDto`` (``profile`` + ``credentials``), ``UserProfileDto``, ``UserCredentialsDto``,
``GroupDto``, ``TenantDto``, ``AuthorizationCreateDto`` / ``AuthorizationDto`` and
``BasicUserCredentialsDto``; and the parameters of ``GET /authorization/check`` and
``/identity/groups``. Strings are limited to their column's length and to text the databases can
store, so that a bad body is a 400 and never reaches SQL. The bodies report every field error in
one message whose paths name the properties (``profile.firstName: ...``), as a query does; the
checks across properties (a profile id, a type to create) come after them, each with its message.
"""

from dataclasses import dataclass

from marshmallow import fields, post_load, validate

from app.core.errors import InvalidRequest
from app.core.permissions import permission_names
from schemas.common import BaseSchema, dto_schema, split_list_param, url
from schemas.fields import Int32, StrictBoolean, StringList, bool_out, date_out, int_out, list_out, text_out
from schemas.query import ResourceQuery, SortableQuerySchema

MAX_PASSWORD_LENGTH = 1024  # as app.services.identity.passwords


class UserQuery(ResourceQuery):
    pass


class GroupQuery(ResourceQuery):
    pass


class TenantQuery(ResourceQuery):
    pass


class AuthorizationQuery(ResourceQuery):
    pass


def _text_filter(data_key=None):
    return fields.String(data_key=data_key, allow_none=True)


def _list_filter(data_key):
    return StringList(data_key=data_key, allow_none=True, metadata=url(split_list_param))


class UserQuerySchema(SortableQuerySchema):
    """``GET /user`` and ``/user/count``."""

    query_class = UserQuery
    sort_keys = {"userId": "id", "firstName": "first_name", "lastName": "last_name", "email": "email"}

    id = _text_filter()
    id_in = _list_filter("idIn")
    first_name = _text_filter("firstName")
    first_name_like = _text_filter("firstNameLike")
    last_name = _text_filter("lastName")
    last_name_like = _text_filter("lastNameLike")
    email = _text_filter()
    email_like = _text_filter("emailLike")
    member_of_group = _text_filter("memberOfGroup")
    member_of_tenant = _text_filter("memberOfTenant")


class GroupQuerySchema(SortableQuerySchema):
    """``GET`` and ``POST /group`` and ``/group/count``: the same GroupQueryDto both ways."""

    resource = "group query"
    example = '{"member": "jonny1"}'
    query_class = GroupQuery
    sort_keys = {"id": "id", "name": "name", "type": "type"}

    id = _text_filter()
    id_in = _list_filter("idIn")
    name = _text_filter()
    name_like = _text_filter("nameLike")
    type = _text_filter()
    member = _text_filter()
    member_of_tenant = _text_filter("memberOfTenant")


class TenantQuerySchema(SortableQuerySchema):
    """``GET /tenant`` and ``/tenant/count``."""

    query_class = TenantQuery
    sort_keys = {"id": "id", "name": "name"}

    id = _text_filter()
    name = _text_filter()
    name_like = _text_filter("nameLike")
    user_member = _text_filter("userMember")
    group_member = _text_filter("groupMember")
    including_groups_of_user = StrictBoolean(data_key="includingGroupsOfUser", allow_none=True)


class AuthorizationQuerySchema(SortableQuerySchema):
    """``GET /authorization`` and ``/authorization/count``."""

    query_class = AuthorizationQuery
    sort_keys = {"resourceType": "resource_type", "resourceId": "resource_id"}

    id = _text_filter()
    type = Int32(allow_none=True)
    user_id_in = _list_filter("userIdIn")
    group_id_in = _list_filter("groupIdIn")
    resource_type = Int32(data_key="resourceType", allow_none=True)
    resource_id = _text_filter("resourceId")


# --- bodies -------------------------------------------------------------------------------

def _text(data_key=None, length=255):
    # BaseSchema adds the storable-text check to every string field.
    return fields.String(data_key=data_key, allow_none=True, validate=validate.Length(max=length))


class _ObjectSchema(BaseSchema):
    """A JSON object body (also when nested); ``example`` shows what one looks like in the
    400's message. Field errors leave as marshmallow's ValidationError (app.errors: one 400
    naming every property at fault)."""

    example = "{}"

    def from_json(self, body):
        if not isinstance(body, dict):
            raise InvalidRequest(f"The body must be a JSON object, e.g. {self.example}")
        return body


class UserProfileSchema(_ObjectSchema):
    """``PUT /user/{id}/profile`` (and ``profile`` of ``/user/create``): loads a dict."""

    example = '{"id": "jonny1", "firstName": "John", "lastName": "Doe", "email": "john@example.com"}'

    id = fields.Raw(allow_none=True)  # checked by the service, with Camunda's messages
    first_name = _text("firstName")
    last_name = _text("lastName")
    email = _text()


class _CredentialsSchema(_ObjectSchema):
    example = '{"password": "s3cret", "authenticatedUserPassword": "my own password"}'

    password = _text(length=MAX_PASSWORD_LENGTH)
    authenticated_user_password = _text("authenticatedUserPassword", MAX_PASSWORD_LENGTH)


@dataclass
class NewUser:
    profile: dict
    password: str | None


class UserCreateSchema(_ObjectSchema):
    """``POST /user/create``: loads a :class:`NewUser`; Camunda's 400 when the profile or its id
    is missing."""

    example = '{"profile": {"id": "jonny1"}, "credentials": {"password": "s3cret"}}'

    profile = fields.Nested(UserProfileSchema, allow_none=True)
    credentials = fields.Nested(_CredentialsSchema, allow_none=True)

    @post_load
    def _new_user(self, loaded, **kwargs):
        profile = loaded.get("profile")
        if profile is None or profile.get("id") is None:
            raise InvalidRequest("request object must provide profile information with valid id.")
        password = (loaded.get("credentials") or {}).get("password")
        if password == "":
            raise InvalidRequest("credentials.password must not be empty")
        return NewUser(profile=profile, password=password)


@dataclass
class NewCredentials:
    password: str
    authenticated_user_password: str | None


class UserCredentialsSchema(_CredentialsSchema):
    """``PUT /user/{id}/credentials``: loads :class:`NewCredentials`; a new password is
    required and not empty."""

    @post_load
    def _credentials(self, loaded, **kwargs):
        if not loaded.get("password"):
            raise InvalidRequest("password must be given and must not be empty")
        return NewCredentials(loaded["password"], loaded.get("authenticated_user_password"))


class GroupSchema(_ObjectSchema):
    """``POST /group/create`` and ``PUT /group/{id}``: loads a dict."""

    example = '{"id": "sales", "name": "Sales", "type": "WORKFLOW"}'

    id = fields.Raw(allow_none=True)
    name = _text()
    type = _text()


class TenantSchema(_ObjectSchema):
    """``POST /tenant/create`` and ``PUT /tenant/{id}``: loads a dict."""

    example = '{"id": "tenantOne", "name": "Tenant One"}'

    id = fields.Raw(allow_none=True)
    name = _text()


class AuthorizationSchema(_ObjectSchema):
    """``PUT /authorization/{id}`` (AuthorizationDto): loads a dict."""

    example = '{"type": 1, "permissions": ["READ"], "userId": "jonny1", "resourceType": 13, "resourceId": "*"}'

    type = Int32(allow_none=True)
    permissions = StringList(allow_none=True)
    user_id = _text("userId")
    group_id = _text("groupId")
    resource_type = Int32(data_key="resourceType", allow_none=True)
    resource_id = _text("resourceId")


class AuthorizationCreateSchema(AuthorizationSchema):
    """``POST /authorization/create`` (AuthorizationCreateDto): ``type`` and ``permissions``
    are needed."""

    @post_load
    def _required(self, loaded, **kwargs):
        if loaded.get("type") is None:
            raise InvalidRequest("type is null: use 0 (GLOBAL), 1 (GRANT) or 2 (REVOKE)")
        if loaded.get("permissions") is None:
            raise InvalidRequest('permissions is null: name the permissions, e.g. ["READ"], or ["ALL"]')
        return loaded


@dataclass
class Credentials:
    username: str
    password: str


class VerifySchema(_ObjectSchema):
    """``POST /identity/verify`` (BasicUserCredentialsDto): loads :class:`Credentials`; an
    empty body is ``{}``."""

    example = '{"username": "jonny1", "password": "s3cret"}'

    username = _text(length=MAX_PASSWORD_LENGTH)
    password = _text(length=MAX_PASSWORD_LENGTH)

    def from_json(self, body):
        return super().from_json({} if body is None else body)

    @post_load
    def _credentials(self, loaded, **kwargs):
        if loaded.get("username") is None or loaded.get("password") is None:
            raise InvalidRequest("Username and password are required")
        return Credentials(loaded["username"], loaded["password"])


# --- GET parameters that are no query -----------------------------------------------------

@dataclass
class AuthorizationCheck:
    permission_name: str
    resource_name: str
    resource_type: int
    resource_id: str | None
    user_id: str | None


class AuthorizationCheckSchema(BaseSchema):
    """``GET /authorization/check``: loads an :class:`AuthorizationCheck`. Camunda asks for the
    three required parameters, in this order, before it converts any."""

    permission_name = fields.String(data_key="permissionName")
    resource_name = fields.String(data_key="resourceName")
    resource_type = Int32(data_key="resourceType")
    resource_id = fields.String(data_key="resourceId", load_default=None)
    user_id = fields.String(data_key="userId", load_default=None)

    def check_first(self, args):
        for name in ("permissionName", "resourceName", "resourceType"):
            if args.get(name) is None:
                raise InvalidRequest(f"Query parameter '{name}' cannot be null")

    @post_load
    def _check(self, loaded, **kwargs):
        return AuthorizationCheck(**loaded)


class GroupInfoSchema(BaseSchema):
    """``GET /identity/groups?userId=``: loads the user id, which is required."""

    user_id = fields.String(data_key="userId")

    def check_first(self, args):
        if args.get("userId") is None:
            raise InvalidRequest("No user id was supplied")

    @post_load
    def _user_id(self, loaded, **kwargs):
        return loaded["user_id"]


# --- writers ------------------------------------------------------------------------------

UserProfileDto = dto_schema("UserProfileDto", {
    "id": text_out(nullable=False), "firstName": text_out(), "lastName": text_out(), "email": text_out(),
})
GroupDto = dto_schema("GroupDto", {"id": text_out(nullable=False), "name": text_out(), "type": text_out()})
TenantDto = dto_schema("TenantDto", {"id": text_out(nullable=False), "name": text_out()})
AuthorizationDto = dto_schema("AuthorizationDto", {
    "id": text_out(nullable=False),
    "type": int_out(nullable=False, description="0 global, 1 grant, 2 revoke"),
    "permissions": list_out(fields.String()),
    "userId": text_out(),
    "groupId": text_out(),
    "resourceType": int_out(nullable=False),
    "resourceId": text_out(),
    "removalTime": date_out(),
    "rootProcessInstanceId": text_out(),
})
AuthorizationCheckResultDto = dto_schema("AuthorizationCheckResultDto", {
    "permissionName": text_out(nullable=False),
    "resourceName": text_out(nullable=False),
    "resourceId": text_out(),
    "authorized": bool_out(),
})
AuthenticationResult = dto_schema("AuthenticationResult", {
    "authenticatedUser": text_out(), "authenticated": bool_out(),
})
GroupInfoDto = dto_schema("GroupInfoDto", {
    "groups": list_out(fields.Nested(dto_schema("GroupInfoGroupDto", {
        "id": text_out(nullable=False), "name": text_out()}))),
    "groupUsers": list_out(fields.Nested(dto_schema("GroupInfoUserDto", {
        "firstName": text_out(), "lastName": text_out(), "displayName": text_out(nullable=False),
        "id": text_out(nullable=False)}))),
})


def user_profile_dto(row):
    return {"id": row["id"], "firstName": row["first_name"], "lastName": row["last_name"], "email": row["email"]}


def group_dto(row):
    return {"id": row["id"], "name": row["name"], "type": row["type"]}


def tenant_dto(row):
    return {"id": row["id"], "name": row["name"]}


def authorization_dto(row):
    return {
        "id": row["id"],
        "type": row["type"],
        "permissions": permission_names(row["type"], row["permissions"], row["resource_type"]),
        "userId": row["user_id"],
        "groupId": row["group_id"],
        "resourceType": row["resource_type"],
        "resourceId": row["resource_id"],
        "removalTime": None,
        "rootProcessInstanceId": row["root_process_instance_id"],
    }


def authorization_check_dto(permission_name, resource_name, resource_id, authorized):
    return {"permissionName": permission_name, "resourceName": resource_name, "resourceId": resource_id,
            "authorized": authorized}


def verify_dto(username, authenticated):
    return {"authenticatedUser": username, "authenticated": authenticated}


def group_info_dto(groups, users):
    """``/identity/groups``: the user's groups and the other members of them (Camunda's GroupInfoDto)."""
    return {
        "groups": [{"id": row["id"], "name": row["name"]} for row in groups],
        "groupUsers": [_group_user(row) for row in users],
    }


def _group_user(row):
    first, last = row["first_name"], row["last_name"]
    # Camunda's UserDto: the id when there is no name at all.
    display = " ".join(part for part in (first, last) if part is not None) or row["id"]
    return {"firstName": first, "lastName": last, "displayName": display, "id": row["id"]}
