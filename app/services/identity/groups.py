"""Groups and their members (Camunda's GroupRestService over DbIdentityServiceProvider).

Checks as Camunda's: CREATE on Group, UPDATE / DELETE / READ on the group, CREATE / DELETE on
Group membership (resource id: the group) to add or remove a member. A new group's members may
READ it (Camunda's default authorization). Adding an existing member again changes nothing.
"""

import uuid

from sqlalchemy import delete, exists, insert, select, update

from app.core.errors import BadUserRequest, NotFound
from app.core.permissions import AUTH_TYPE_GRANT, GROUP, GROUP_MEMBERSHIP, TENANT, USER, permissions_of
from app.extensions import db
from app.models.tables import authorization_table, group_member_table, group_table, tenant_member_table, user_table
from app.services import audit, auth
from app.services.identity import common


def _not_found(group_id):
    return NotFound(f"Group with id {group_id} does not exist")


def _readable(authentication):
    return auth.readable_condition(authentication, "READ", GROUP, group_table.c.id)


def create_group(authentication, group):
    group_id = common.validate_id("Group", group.get("id"))
    auth.check_authorization(authentication, "CREATE", GROUP)
    if common.exists(group_table, group_id):
        raise BadUserRequest("The group already exists")
    common.insert_unique(insert(group_table).values(
        id=group_id, revision=1, name=group.get("name"), type=group.get("type")), "The group already exists")
    db.session.execute(insert(authorization_table).values(
        id=str(uuid.uuid4()), revision=1, type=AUTH_TYPE_GRANT, user_id=None, group_id=group_id,
        resource_type=GROUP.type, resource_id=group_id, permissions=permissions_of(GROUP.type)["READ"],
    ))
    audit.log_identity(audit.CREATE, audit.GROUP, groupId=group_id)
    db.session.commit()


def get_group(authentication, group_id):
    row = common.find(group_table, group_id, _readable(authentication))
    if row is None:
        raise _not_found(group_id)
    return row


def update_group(authentication, group_id, group):
    get_group(authentication, group_id)
    auth.check_authorization(authentication, "UPDATE", GROUP, group_id)
    db.session.execute(update(group_table).where(group_table.c.id == group_id).values(
        name=group.get("name"), type=group.get("type"), revision=group_table.c.revision + 1))
    audit.log_identity(audit.UPDATE, audit.GROUP, groupId=group_id)
    db.session.commit()


def delete_group(authentication, group_id):
    """Memberships go by cascade; the group's own authorizations, those on it and its tenant
    authorizations go as in Camunda."""
    auth.check_authorization(authentication, "DELETE", GROUP, group_id)
    if not common.exists(group_table, group_id):
        return
    a = authorization_table.c
    member_of = select(tenant_member_table.c.tenant_id).where(tenant_member_table.c.group_id == group_id)
    db.session.execute(delete(authorization_table).where(
        ((a.resource_type == GROUP.type) & (a.resource_id == group_id))
        | ((a.resource_type == TENANT.type) & (a.group_id == group_id) & a.resource_id.in_(member_of))
        | (a.group_id == group_id)
    ))
    db.session.execute(delete(group_table).where(group_table.c.id == group_id))
    audit.log_identity(audit.DELETE, audit.GROUP, groupId=group_id)
    db.session.commit()
    auth.forget_all_credentials()


def add_member(authentication, group_id, user_id):
    auth.check_authorization(authentication, "CREATE", GROUP_MEMBERSHIP, group_id)
    if not common.exists(user_table, user_id):
        raise NotFound(f"No user found with id '{user_id}'.")
    if not common.exists(group_table, group_id):
        raise NotFound(f"No group found with id '{group_id}'.")
    if not is_member(user_id, group_id):
        common.insert_unique(insert(group_member_table).values(user_id=user_id, group_id=group_id),
                             f"User {user_id} is already a member of group {group_id}")
        audit.log_identity(audit.CREATE, audit.GROUP_MEMBERSHIP, userId=user_id, groupId=group_id)
    db.session.commit()
    auth.forget_all_credentials()


def remove_member(authentication, group_id, user_id):
    auth.check_authorization(authentication, "DELETE", GROUP_MEMBERSHIP, group_id)
    if not isinstance(user_id, str) or not isinstance(group_id, str):
        return
    m = group_member_table.c
    if db.session.execute(delete(group_member_table).where(m.user_id == user_id, m.group_id == group_id)).rowcount:
        audit.log_identity(audit.DELETE, audit.GROUP_MEMBERSHIP, userId=user_id, groupId=group_id)
    db.session.commit()
    auth.forget_all_credentials()


def is_member(user_id, group_id):
    m = group_member_table.c
    return db.session.scalar(select(exists().where(m.user_id == user_id, m.group_id == group_id)))


def _conditions(authentication, filters):
    c = group_table.c
    conditions = [_readable(authentication)]
    for key, column in (("id", c.id), ("name", c.name), ("type", c.type)):
        if key in filters:
            conditions.append(column == filters[key])
    if "id_in" in filters:
        conditions.append(c.id.in_(filters["id_in"]))
    if "name_like" in filters:
        conditions.append(c.name.like(filters["name_like"]))
    if "member" in filters:
        conditions.append(exists().where(group_member_table.c.group_id == c.id,
                                         group_member_table.c.user_id == filters["member"]))
    if "member_of_tenant" in filters:
        conditions.append(exists().where(tenant_member_table.c.group_id == c.id,
                                         tenant_member_table.c.tenant_id == filters["member_of_tenant"]))
    return conditions


_rows = common.readable_rows(group_table, _conditions)


def count_groups(authentication, query):
    return _rows.count(common.scoped(authentication, query))


def list_groups(authentication, query, first_result=None, max_results=None):
    return _rows.list(common.scoped(authentication, query), first_result, max_results)


def stream_groups(authentication, query, first_result=None, chunk_size=1000):
    return _rows.stream(common.scoped(authentication, query), first_result, chunk_size)


def group_info(authentication, user_id):
    """``/identity/groups``: the user's groups by name, and the other members of those groups,
    each as far as the caller may READ them."""
    c = group_table.c
    user_groups = db.session.execute(
        select(group_table).where(_readable(authentication), c.id.in_(common.select_groups_of(user_id)))
        .order_by(c.name.asc().nulls_first(), c.id)).mappings().all()
    m = group_member_table.c
    u = user_table.c
    others = db.session.execute(
        select(user_table).where(
            auth.readable_condition(authentication, "READ", USER, u.id), u.id != user_id,
            exists().where(m.user_id == u.id, m.group_id.in_([row["id"] for row in user_groups])))
        .order_by(u.id)).mappings().all()
    return user_groups, others
