"""Users: create, query, profile, credentials, delete (Camunda's UserRestService over DbIdentityServiceProvider).

Checks as Camunda's: CREATE on User to create, UPDATE on the user to change its profile or
password, DELETE to delete, READ to see it (queries are filtered, an unreadable user is "does
not exist"). A new user gets ALL on itself, as Camunda's default authorization provider gives
it, so that everyone may read their profile and change their own password.
"""

import uuid

from sqlalchemy import delete, exists, insert, or_, select, update

from app.core.errors import BadUserRequest, InvalidRequest, NotFound
from app.core.permissions import ALL_BITS, AUTH_TYPE_GRANT, TENANT, USER
from app.extensions import db
from app.models.tables import authorization_table, group_member_table, tenant_member_table, user_table
from app.services import audit, auth
from app.services.identity import common, passwords


def _not_found(user_id):
    return NotFound(f"User with id {user_id} does not exist")


def _readable(authentication):
    return auth.readable_condition(authentication, "READ", USER, user_table.c.id)


def create_user(authentication, profile, password=None):
    """``profile``: id, first_name, last_name, email. ``password`` None: the user cannot log in."""
    user_id = common.validate_id("User", profile.get("id"))
    auth.check_authorization(authentication, "CREATE", USER)
    if common.exists(user_table, user_id):
        raise BadUserRequest("The user already exists")
    common.insert_unique(insert(user_table).values(
        id=user_id, revision=1, first_name=profile.get("first_name"), last_name=profile.get("last_name"),
        email=profile.get("email"), password_hash=passwords.hash_password(password) if password else None,
    ), "The user already exists")
    db.session.execute(insert(authorization_table).values(
        id=str(uuid.uuid4()), revision=1, type=AUTH_TYPE_GRANT, user_id=user_id, group_id=None,
        resource_type=USER.type, resource_id=user_id, permissions=ALL_BITS,
    ))
    audit.log_identity(audit.CREATE, audit.USER, userId=user_id)
    db.session.commit()


def get_user(authentication, user_id):
    row = common.find(user_table, user_id, _readable(authentication))
    if row is None:
        raise _not_found(user_id)
    return row


def update_profile(authentication, user_id, profile):
    get_user(authentication, user_id)
    auth.check_authorization(authentication, "UPDATE", USER, user_id)
    db.session.execute(update(user_table).where(user_table.c.id == user_id).values(
        first_name=profile.get("first_name"), last_name=profile.get("last_name"), email=profile.get("email"),
        revision=user_table.c.revision + 1,
    ))
    audit.log_identity(audit.UPDATE, audit.USER, userId=user_id)
    db.session.commit()


def update_credentials(authentication, user_id, password, authenticated_user_password=None):
    """Camunda asks the caller for their own current password first (not the target user's)."""
    if authentication is not None:
        current = db.session.scalar(select(user_table.c.password_hash).where(user_table.c.id == authentication.user_id))
        if authenticated_user_password is None or not passwords.verify_password(current, authenticated_user_password):
            raise InvalidRequest("The given authenticated user password is not valid.")
    get_user(authentication, user_id)
    auth.check_authorization(authentication, "UPDATE", USER, user_id)
    audit.log_identity(audit.UPDATE, audit.USER, userId=user_id)
    set_password(user_id, password)


def set_password(user_id, password):
    """Store a new hash and commit (no checks: the callers check), then end the user's cached
    logins; after the commit, so that no request can cache the old password again meanwhile."""
    db.session.execute(update(user_table).where(user_table.c.id == user_id).values(
        password_hash=passwords.hash_password(password), revision=user_table.c.revision + 1))
    db.session.commit()
    auth.forget_credentials(user_id)


def delete_user(authentication, user_id):
    """Camunda checks DELETE before it looks; deleting a user that does not exist does nothing.

    Memberships go by cascade. The authorizations on the user (resource User) and the user's
    authorizations on the tenants it belonged to go, as in Camunda; unlike Camunda every other
    authorization granted to the user goes too, so that a new user with the same id starts
    with nothing.
    """
    auth.check_authorization(authentication, "DELETE", USER, user_id)
    if not common.exists(user_table, user_id):
        return
    a = authorization_table.c
    member_of = select(tenant_member_table.c.tenant_id).where(tenant_member_table.c.user_id == user_id)
    db.session.execute(delete(authorization_table).where(or_(
        (a.resource_type == USER.type) & (a.resource_id == user_id),
        (a.resource_type == TENANT.type) & (a.user_id == user_id) & a.resource_id.in_(member_of),
        a.user_id == user_id,
    )))
    db.session.execute(delete(user_table).where(user_table.c.id == user_id))
    audit.log_identity(audit.DELETE, audit.USER, userId=user_id)
    db.session.commit()
    auth.forget_credentials(user_id)
    auth.forget_all_credentials()


def _conditions(authentication, filters):
    c = user_table.c
    conditions = [_readable(authentication)]
    for key, column in (("id", c.id), ("first_name", c.first_name), ("last_name", c.last_name), ("email", c.email)):
        if key in filters:
            conditions.append(column == filters[key])
    for key, column in (("first_name_like", c.first_name), ("last_name_like", c.last_name),
                        ("email_like", c.email)):
        if key in filters:
            conditions.append(column.like(filters[key]))
    if "id_in" in filters:
        conditions.append(c.id.in_(filters["id_in"]))
    if "member_of_group" in filters:
        conditions.append(exists().where(group_member_table.c.user_id == c.id,
                                         group_member_table.c.group_id == filters["member_of_group"]))
    if "member_of_tenant" in filters:
        conditions.append(exists().where(tenant_member_table.c.user_id == c.id,
                                         tenant_member_table.c.tenant_id == filters["member_of_tenant"]))
    return conditions


_rows = common.readable_rows(user_table, _conditions)


def count_users(authentication, query):
    return _rows.count(common.scoped(authentication, query))


def list_users(authentication, query, first_result=None, max_results=None):
    return _rows.list(common.scoped(authentication, query), first_result, max_results)


def stream_users(authentication, query, first_result=None, chunk_size=1000):
    return _rows.stream(common.scoped(authentication, query), first_result, chunk_size)
