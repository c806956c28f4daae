"""Tenants and their user and group members (Camunda's TenantRestService over DbIdentityServiceProvider).

Checks as Camunda's: CREATE on Tenant, UPDATE / DELETE / READ on the tenant, CREATE / DELETE on
TenantMembership (resource id: the tenant) to add or remove a member. A new member may READ
the tenant (Camunda's default authorization), and loses that with its membership. Adding an
existing member again changes nothing.
"""

import uuid

from sqlalchemy import delete, exists, insert, update

from app.core.errors import BadUserRequest, NotFound
from app.core.permissions import AUTH_TYPE_GRANT, TENANT, TENANT_MEMBERSHIP, permissions_of
from app.extensions import db
from app.models.tables import authorization_table, group_table, tenant_member_table, tenant_table, user_table
from app.services import audit, auth
from app.services.identity import common


def _not_found(tenant_id):
    return NotFound(f"Tenant with id {tenant_id} does not exist")


def _readable(authentication):
    return auth.readable_condition(authentication, "READ", TENANT, tenant_table.c.id)


def create_tenant(authentication, tenant):
    tenant_id = common.validate_id("Tenant", tenant.get("id"))
    auth.check_authorization(authentication, "CREATE", TENANT)
    if common.exists(tenant_table, tenant_id):
        raise BadUserRequest("The tenant already exists")
    common.insert_unique(insert(tenant_table).values(id=tenant_id, revision=1, name=tenant.get("name")),
                         "The tenant already exists")
    audit.log_identity(audit.CREATE, audit.TENANT, tenantId=tenant_id)
    db.session.commit()


def get_tenant(authentication, tenant_id):
    row = common.find(tenant_table, tenant_id, _readable(authentication))
    if row is None:
        raise _not_found(tenant_id)
    return row


def update_tenant(authentication, tenant_id, tenant):
    get_tenant(authentication, tenant_id)
    auth.check_authorization(authentication, "UPDATE", TENANT, tenant_id)
    db.session.execute(update(tenant_table).where(tenant_table.c.id == tenant_id).values(
        name=tenant.get("name"), revision=tenant_table.c.revision + 1))
    audit.log_identity(audit.UPDATE, audit.TENANT, tenantId=tenant_id)
    db.session.commit()


def delete_tenant(authentication, tenant_id):
    auth.check_authorization(authentication, "DELETE", TENANT, tenant_id)
    if not common.exists(tenant_table, tenant_id):
        return
    a = authorization_table.c
    db.session.execute(delete(authorization_table).where(a.resource_type == TENANT.type, a.resource_id == tenant_id))
    db.session.execute(delete(tenant_table).where(tenant_table.c.id == tenant_id))
    audit.log_identity(audit.DELETE, audit.TENANT, tenantId=tenant_id)
    db.session.commit()
    auth.forget_all_credentials()


def _add(authentication, tenant_id, member_table, member_id, kind, column):
    auth.check_authorization(authentication, "CREATE", TENANT_MEMBERSHIP, tenant_id)
    if not common.exists(tenant_table, tenant_id):
        raise NotFound(f"No tenant found with id '{tenant_id}'.")
    if not common.exists(member_table, member_id):
        raise NotFound(f"No {kind} found with id '{member_id}'.")
    m = tenant_member_table.c
    if not db.session.scalar(exists().where(m.tenant_id == tenant_id, m[column] == member_id).select()):
        common.insert_unique(insert(tenant_member_table).values(id=str(uuid.uuid4()), tenant_id=tenant_id,
                                                                **{column: member_id}),
                             f"The {kind} {member_id} is already a member of tenant {tenant_id}")
        owner = {"user_id": member_id, "group_id": None} if column == "user_id" else {
            "user_id": None, "group_id": member_id}
        a = authorization_table.c
        already = exists().where(a.type == AUTH_TYPE_GRANT, a[column] == member_id,
                                 a.resource_type == TENANT.type, a.resource_id == tenant_id).select()
        if not db.session.scalar(already):
            db.session.execute(insert(authorization_table).values(
                id=str(uuid.uuid4()), revision=1, type=AUTH_TYPE_GRANT, resource_type=TENANT.type,
                resource_id=tenant_id, permissions=permissions_of(TENANT.type)["READ"], **owner))
        audit.log_identity(audit.CREATE, audit.TENANT_MEMBERSHIP, tenantId=tenant_id, **_member(column, member_id))
    db.session.commit()
    auth.forget_all_credentials()


def _remove(authentication, tenant_id, member_id, column):
    auth.check_authorization(authentication, "DELETE", TENANT_MEMBERSHIP, tenant_id)
    m = tenant_member_table.c
    deleted = db.session.execute(delete(tenant_member_table).where(m.tenant_id == tenant_id, m[column] == member_id))
    if deleted.rowcount:
        # Camunda removes the member's authorizations on the tenant with the membership.
        a = authorization_table.c
        db.session.execute(delete(authorization_table).where(
            a.resource_type == TENANT.type, a.resource_id == tenant_id, a[column] == member_id))
        audit.log_identity(audit.DELETE, audit.TENANT_MEMBERSHIP, tenantId=tenant_id, **_member(column, member_id))
    db.session.commit()
    auth.forget_all_credentials()


def _member(column, member_id):
    return {"userId": member_id} if column == "user_id" else {"groupId": member_id}


def add_user_member(authentication, tenant_id, user_id):
    _add(authentication, tenant_id, user_table, user_id, "user", "user_id")


def add_group_member(authentication, tenant_id, group_id):
    _add(authentication, tenant_id, group_table, group_id, "group", "group_id")


def remove_user_member(authentication, tenant_id, user_id):
    _remove(authentication, tenant_id, user_id, "user_id")


def remove_group_member(authentication, tenant_id, group_id):
    _remove(authentication, tenant_id, group_id, "group_id")


def _conditions(authentication, filters):
    c = tenant_table.c
    m = tenant_member_table.c
    conditions = [_readable(authentication)]
    for key, column in (("id", c.id), ("name", c.name)):
        if key in filters:
            conditions.append(column == filters[key])
    if "name_like" in filters:
        conditions.append(c.name.like(filters["name_like"]))
    if "user_member" in filters:
        user_id = filters["user_member"]
        direct = exists().where(m.tenant_id == c.id, m.user_id == user_id)
        if filters.get("including_groups_of_user"):
            from_groups = exists().where(m.tenant_id == c.id, m.group_id.in_(
                common.select_groups_of(user_id)))
            conditions.append(direct | from_groups)
        else:
            conditions.append(direct)
    if "group_member" in filters:
        conditions.append(exists().where(m.tenant_id == c.id, m.group_id == filters["group_member"]))
    return conditions


_rows = common.readable_rows(tenant_table, _conditions)


def count_tenants(authentication, query):
    return _rows.count(common.scoped(authentication, query))


def list_tenants(authentication, query, first_result=None, max_results=None):
    return _rows.list(common.scoped(authentication, query), first_result, max_results)


def stream_tenants(authentication, query, first_result=None, chunk_size=1000):
    return _rows.stream(common.scoped(authentication, query), first_result, chunk_size)
