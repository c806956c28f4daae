"""Camunda's identity DTOs: users, groups, tenants, authorizations, ``/identity`` (request loading and writers).

Queries: Camunda's ``UserQueryDto``, ``GroupQueryDto``, ``TenantQueryDto`` and
``AuthorizationQueryDto`` parameters, converted with Camunda's messages (schemas.common), into
a :class:`~schemas.common.ResourceQuery` whose ordering is already resolved to columns.

Bodies: ``UserDto`` (``profile`` + ``credentials``), ``UserProfileDto``, ``UserCredentialsDto``,
``GroupDto``, ``TenantDto``, ``AuthorizationCreateDto`` / ``AuthorizationDto`` and
``BasicUserCredentialsDto``. Strings are limited to their column's length and to text the
databases can store, so that a bad body is a 400 and never reaches SQL.
"""

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from app.core.errors import InvalidRequest
from app.core.permissions import permission_names
from schemas.common import (
    BaseSchema,
    Int32,
    ResourceQuery,
    StringList,
    check_sort_pair,
    check_sort_values,
    convert_args,
    load_or_400,
    resolve_ordering,
    split_list_param,
    storable_text,
)

MAX_PASSWORD_LENGTH = 1024  # as app.services.identity.passwords


class UserQuery(ResourceQuery):
    pass


class GroupQuery(ResourceQuery):
    pass


class TenantQuery(ResourceQuery):
    pass


class AuthorizationQuery(ResourceQuery):
    pass


def _list(name, values):
    return split_list_param(values)


# parameter -> (converter kind, filter key)
_USER_PARAMS = {
    "id": ("str", "id"), "idIn": (_list, "id_in"), "firstName": ("str", "first_name"),
    "firstNameLike": ("str", "first_name_like"), "lastName": ("str", "last_name"),
    "lastNameLike": ("str", "last_name_like"), "email": ("str", "email"), "emailLike": ("str", "email_like"),
    "memberOfGroup": ("str", "member_of_group"), "memberOfTenant": ("str", "member_of_tenant"),
}
_USER_SORT = {"userId": "id", "firstName": "first_name", "lastName": "last_name", "email": "email"}

_GROUP_PARAMS = {
    "id": ("str", "id"), "idIn": (_list, "id_in"), "name": ("str", "name"), "nameLike": ("str", "name_like"),
    "type": ("str", "type"), "member": ("str", "member"), "memberOfTenant": ("str", "member_of_tenant"),
}
_GROUP_SORT = {"id": "id", "name": "name", "type": "type"}

_TENANT_PARAMS = {
    "id": ("str", "id"), "name": ("str", "name"), "nameLike": ("str", "name_like"),
    "userMember": ("str", "user_member"), "groupMember": ("str", "group_member"),
    "includingGroupsOfUser": ("bool", "including_groups_of_user"),
}
_TENANT_SORT = {"id": "id", "name": "name"}

_AUTHORIZATION_PARAMS = {
    "id": ("str", "id"), "type": ("int", "type"), "userIdIn": (_list, "user_id_in"),
    "groupIdIn": (_list, "group_id_in"), "resourceType": ("int", "resource_type"),
    "resourceId": ("str", "resource_id"),
}
_AUTHORIZATION_SORT = {"resourceType": "resource_type", "resourceId": "resource_id"}


def _query_from_args(args, params, sort_keys, query_class):
    spec = {name: kind for name, (kind, _) in params.items()}
    converted = convert_args(args, {**spec, "sortBy": "str", "sortOrder": "str"})
    sort_by, sort_order = converted.get("sortBy"), converted.get("sortOrder")
    check_sort_values(sort_by, sort_order, sort_keys, from_get=True)
    check_sort_pair(sort_by, sort_order)
    filters = {key: converted[name] for name, (_, key) in params.items() if name in converted}
    ordering = [(sort_keys[sort_by], sort_order)] if sort_by is not None else []
    return query_class(filters=filters, ordering=ordering)


def user_query_from_args(args):
    return _query_from_args(args, _USER_PARAMS, _USER_SORT, UserQuery)


def group_query_from_args(args):
    return _query_from_args(args, _GROUP_PARAMS, _GROUP_SORT, GroupQuery)


def tenant_query_from_args(args):
    return _query_from_args(args, _TENANT_PARAMS, _TENANT_SORT, TenantQuery)


def authorization_query_from_args(args):
    return _query_from_args(args, _AUTHORIZATION_PARAMS, _AUTHORIZATION_SORT, AuthorizationQuery)


class GroupQueryBodySchema(BaseSchema):
    """``POST /group`` and ``/group/count``: GroupQueryDto as JSON, with Camunda's sorting."""

    id = fields.String(allow_none=True)
    id_in = StringList(data_key="idIn", allow_none=True)
    name = fields.String(allow_none=True)
    name_like = fields.String(data_key="nameLike", allow_none=True)
    type = fields.String(allow_none=True)
    member = fields.String(allow_none=True)
    member_of_tenant = fields.String(data_key="memberOfTenant", allow_none=True)
    sort_by = fields.String(data_key="sortBy", allow_none=True)
    sort_order = fields.String(data_key="sortOrder", allow_none=True)
    sorting = fields.List(fields.Dict(), allow_none=True)

    @pre_load
    def _require_object(self, data, **kwargs):
        if not isinstance(data, dict):
            raise InvalidRequest('The group query must be a JSON object, e.g. {"member": "jonny1"}')
        return data


_GROUP_QUERY_BODY = GroupQueryBodySchema()


def group_query_from_json(body):
    loaded = load_or_400(_GROUP_QUERY_BODY, {} if body is None else body)
    check_sort_values(loaded.get("sort_by"), loaded.get("sort_order"), _GROUP_SORT, from_get=False)
    sorting = loaded.get("sorting") or []
    ordering = resolve_ordering(loaded.get("sort_by"), loaded.get("sort_order"), sorting, _GROUP_SORT)
    filters = {key: value for key, value in loaded.items()
               if key not in ("sort_by", "sort_order", "sorting") and value is not None}
    return GroupQuery(filters=filters, ordering=ordering)


# --- bodies -------------------------------------------------------------------------------

def _text(data_key=None, length=255):
    return fields.String(data_key=data_key, allow_none=True, validate=[validate.Length(max=length), storable_text])


class _ObjectSchema(Schema):
    """A JSON object body; ``example`` shows what one looks like in the 400's message.

    Not BaseSchema: it appends the text check to each field when a schema is built, and
    marshmallow's field copies share their validator lists, so a schema used both alone and
    nested (UserProfileDto) would report each problem twice. The fields here name the check.
    """

    example = "{}"

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _require_object(self, data, **kwargs):
        if not isinstance(data, dict):
            raise InvalidRequest(f"The body must be a JSON object, e.g. {self.example}")
        return data


class UserProfileSchema(_ObjectSchema):
    example = '{"id": "jonny1", "firstName": "John", "lastName": "Doe", "email": "john@example.com"}'

    id = fields.Raw(allow_none=True)  # checked by the service, with Camunda's messages
    first_name = _text("firstName")
    last_name = _text("lastName")
    email = _text()


class UserCredentialsSchema(_ObjectSchema):
    example = '{"password": "s3cret", "authenticatedUserPassword": "my own password"}'

    password = _text(length=MAX_PASSWORD_LENGTH)
    authenticated_user_password = _text("authenticatedUserPassword", MAX_PASSWORD_LENGTH)


class UserCreateSchema(_ObjectSchema):
    example = '{"profile": {"id": "jonny1"}, "credentials": {"password": "s3cret"}}'

    profile = fields.Nested(UserProfileSchema, allow_none=True)
    credentials = fields.Nested(UserCredentialsSchema, allow_none=True)


class GroupSchema(_ObjectSchema):
    example = '{"id": "sales", "name": "Sales", "type": "WORKFLOW"}'

    id = fields.Raw(allow_none=True)
    name = _text()
    type = _text()


class TenantSchema(_ObjectSchema):
    example = '{"id": "tenantOne", "name": "Tenant One"}'

    id = fields.Raw(allow_none=True)
    name = _text()


class AuthorizationSchema(_ObjectSchema):
    example = '{"type": 1, "permissions": ["READ"], "userId": "jonny1", "resourceType": 13, "resourceId": "*"}'

    type = Int32(allow_none=True)
    permissions = fields.List(fields.String(validate=storable_text), allow_none=True)
    user_id = _text("userId")
    group_id = _text("groupId")
    resource_type = Int32(data_key="resourceType", allow_none=True)
    resource_id = _text("resourceId")


class VerifySchema(_ObjectSchema):
    example = '{"username": "jonny1", "password": "s3cret"}'

    username = _text(length=MAX_PASSWORD_LENGTH)
    password = _text(length=MAX_PASSWORD_LENGTH)


# One instance each: BaseSchema adds its text check to the fields when a schema is built, and
# marshmallow's field copies share their validator lists, so building per request would pile them up.
_USER_CREATE = UserCreateSchema()
_USER_PROFILE = UserProfileSchema()
_USER_CREDENTIALS = UserCredentialsSchema()
_GROUP = GroupSchema()
_TENANT = TenantSchema()
_AUTHORIZATION = AuthorizationSchema()
_VERIFY = VerifySchema()


def _non_empty_password(password):
    if password is not None and password == "":
        raise InvalidRequest("credentials.password must not be empty")
    return password


def load_user_create(body):
    """``(profile, password)``; Camunda's 400 when the profile or its id is missing."""
    loaded = load_or_400(_USER_CREATE, body)
    profile = loaded.get("profile")
    if profile is None or profile.get("id") is None:
        raise InvalidRequest("request object must provide profile information with valid id.")
    credentials = loaded.get("credentials") or {}
    return profile, _non_empty_password(credentials.get("password"))


def load_user_profile(body):
    return load_or_400(_USER_PROFILE, body)


def load_user_credentials(body):
    """``(password, authenticatedUserPassword)``; a new password is required and not empty."""
    loaded = load_or_400(_USER_CREDENTIALS, body)
    if not loaded.get("password"):
        raise InvalidRequest("password must be given and must not be empty")
    return loaded["password"], loaded.get("authenticated_user_password")


def load_group(body):
    return load_or_400(_GROUP, body)


def load_tenant(body):
    return load_or_400(_TENANT, body)


def load_authorization(body, creating):
    """AuthorizationCreateDto (``creating``) or AuthorizationDto (an update); ``type`` is needed to create."""
    loaded = load_or_400(_AUTHORIZATION, body)
    if creating and loaded.get("type") is None:
        raise InvalidRequest("type is null: use 0 (GLOBAL), 1 (GRANT) or 2 (REVOKE)")
    if creating and loaded.get("permissions") is None:
        raise InvalidRequest('permissions is null: name the permissions, e.g. ["READ"], or ["ALL"]')
    return loaded


def load_verify(body):
    loaded = load_or_400(_VERIFY, {} if body is None else body)
    if loaded.get("username") is None or loaded.get("password") is None:
        raise InvalidRequest("Username and password are required")
    return loaded["username"], loaded["password"]


# --- writers ------------------------------------------------------------------------------

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
