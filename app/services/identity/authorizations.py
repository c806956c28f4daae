"""Authorizations: create, query, get, update, delete, check (Camunda's AuthorizationRestService).

Values are validated in Camunda's order (the type, a group on a GLOBAL authorization, the
user of a GLOBAL authorization, the permission names for the resource type, exactly one owner,
the resource type), then the caller's permission is checked: CREATE on Authorization to create,
UPDATE / DELETE / READ on the authorization itself. Where Camunda answers a malformed
authorization with a 500, this is a 400 with Camunda's message. An authorization always has a
``resourceId`` (``*`` for all): Camunda stores a null one, which can never match anything.

No authorization is cached: a change applies to the next request in every process.
"""

import uuid

from sqlalchemy import delete, insert, update

from app.core.errors import BadUserRequest, InvalidRequest, NotFound
from app.core.permissions import (
    ANY,
    AUTH_TYPE_GLOBAL,
    AUTH_TYPES,
    AUTHORIZATION,
    RESOURCES_BY_TYPE,
    Resource,
    bits_for,
    permission_bit,
)
from app.extensions import db
from app.models.tables import authorization_table
from app.services import audit, auth
from app.services.identity import common

DUPLICATE = "An authorization of this type for this user or group on this resource type and resource id already exists"


def _readable(authentication):
    return auth.readable_condition(authentication, "READ", AUTHORIZATION, authorization_table.c.id)


def _validated(values):
    """``values``: type, user_id, group_id, resource_type, resource_id, permissions (names).
    Returns the column values; raises Camunda's errors as 400s."""
    authorization_type = values["type"]
    if authorization_type not in AUTH_TYPES:
        raise InvalidRequest(f"ENGINE-03025 Unrecognized authorization type '{authorization_type}'. "
                             "Must be one of ['0', '1', '2']")
    user_id, group_id = values.get("user_id"), values.get("group_id")
    if authorization_type == AUTH_TYPE_GLOBAL:
        if group_id is not None:
            raise InvalidRequest("ENGINE-03027 Cannot use 'groupId' for GLOBAL authorization")
        if user_id is not None and user_id != ANY:
            raise InvalidRequest(f"ENGINE-03028 Illegal value '{user_id}' for userId for GLOBAL authorization. "
                                 f"Must be '{ANY}'")
    resource_type = values.get("resource_type")
    if resource_type is None:
        raise InvalidRequest("Authorization 'resourceType' cannot be null.")
    if resource_type not in RESOURCES_BY_TYPE:
        raise InvalidRequest(f"resourceType {resource_type} is not one of Camunda's resource types (0 to "
                             f"{max(RESOURCES_BY_TYPE)})")
    bits = bits_for(authorization_type, values["permissions"], resource_type)
    if (user_id is None) == (group_id is None):
        raise InvalidRequest("Authorization must either have a 'userId' or a 'groupId'.")
    if values.get("resource_id") is None:
        raise InvalidRequest("Authorization 'resourceId' cannot be null: use '*' for all resources.")
    return {"type": authorization_type, "user_id": user_id, "group_id": group_id, "resource_type": resource_type,
            "resource_id": values["resource_id"], "permissions": bits}


def create_authorization(authentication, values):
    row = _validated(values)
    auth.check_authorization(authentication, "CREATE", AUTHORIZATION)
    authorization_id = str(uuid.uuid4())
    common.insert_unique(insert(authorization_table).values(id=authorization_id, revision=1, **row), DUPLICATE)
    audit.log_authorization(audit.CREATE, row)
    db.session.commit()
    return common.find(authorization_table, authorization_id)


def get_authorization(authentication, authorization_id):
    row = common.find(authorization_table, authorization_id, _readable(authentication))
    if row is None:
        raise NotFound(f"Authorization with id {authorization_id} does not exist.")
    return row


def update_authorization(authentication, authorization_id, values):
    """AuthorizationDto.update: owner and resource id always replaced, the resource type and
    the permissions only when given (the permissions named for the resource type they end with)."""
    current = get_authorization(authentication, authorization_id)
    merged = {
        "type": current["type"],
        "user_id": values.get("user_id"),
        "group_id": values.get("group_id"),
        "resource_type": values["resource_type"] if values.get("resource_type") is not None
        else current["resource_type"],
        "resource_id": values.get("resource_id"),
        "permissions": [],
    }
    if values.get("permissions") is not None:
        merged["permissions"] = values["permissions"]
    row = _validated(merged)
    if values.get("permissions") is None:
        row["permissions"] = current["permissions"]
    auth.check_authorization(authentication, "UPDATE", AUTHORIZATION, authorization_id)
    duplicate = common.count(authorization_table, [
        authorization_table.c.id != authorization_id,
        *(authorization_table.c[key] == value if value is not None else authorization_table.c[key].is_(None)
          for key, value in row.items() if key != "permissions"),
    ])
    if duplicate:
        raise BadUserRequest(DUPLICATE)
    db.session.execute(update(authorization_table).where(authorization_table.c.id == authorization_id)
                       .values(revision=authorization_table.c.revision + 1, **row))
    audit.log_authorization(audit.UPDATE, row, current)
    db.session.commit()


def delete_authorization(authentication, authorization_id):
    current = get_authorization(authentication, authorization_id)
    auth.check_authorization(authentication, "DELETE", AUTHORIZATION, authorization_id)
    db.session.execute(delete(authorization_table).where(authorization_table.c.id == authorization_id))
    audit.log_authorization(audit.DELETE, current)
    db.session.commit()


def _conditions(authentication, filters):
    c = authorization_table.c
    conditions = [_readable(authentication)]
    for key, column in (("id", c.id), ("type", c.type), ("resource_type", c.resource_type),
                        ("resource_id", c.resource_id)):
        if key in filters:
            conditions.append(column == filters[key])
    if "user_id_in" in filters:
        conditions.append(c.user_id.in_(filters["user_id_in"]))
    if "group_id_in" in filters:
        conditions.append(c.group_id.in_(filters["group_id_in"]))
    return conditions


_rows = common.readable_rows(authorization_table, _conditions)


def count_authorizations(authentication, query):
    return _rows.count(common.scoped(authentication, query))


def list_authorizations(authentication, query, first_result=None, max_results=None):
    return _rows.list(common.scoped(authentication, query), first_result, max_results)


def stream_authorizations(authentication, query, first_result=None, chunk_size=1000):
    return _rows.stream(common.scoped(authentication, query), first_result, chunk_size)


def check(authentication, permission_name, resource_name, resource_type, resource_id=None, user_id=None):
    """``GET /authorization/check``: whether the caller (or, for a caller who may READ
    authorizations, ``user_id``) has the permission. Camunda's messages and statuses."""
    if authentication is None:
        raise InvalidRequest("You must be authenticated in order to use this resource.", status=401)
    permission_bit(permission_name, resource_type)  # an unknown name is Camunda's 400
    target = authentication
    if user_id is not None and user_id != authentication.user_id:
        if not auth.is_authorized(authentication, "READ", AUTHORIZATION):
            raise InvalidRequest("You must have READ permission for Authorization resource.", status=403)
        target = auth.load_authentication(user_id)
    resource = RESOURCES_BY_TYPE.get(resource_type) or Resource(resource_name, resource_name, resource_type)
    return auth.is_authorized(target, permission_name, resource, None if resource_id == ANY else resource_id)
