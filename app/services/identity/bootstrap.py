"""The first administrator: created or updated from the environment, and required to serve.

Camunda Run creates its admin user from ``camunda.bpm.admin-user`` at start; here the release
step does it (``flask --app app users bootstrap`` reads ``JOBSERVICE_ADMIN_USER`` and
``JOBSERVICE_ADMIN_PASSWORD``), so that web and worker processes never write identities when
they start. An administrator is a member of ``camunda-admin`` with a password.
"""

from flask import current_app
from sqlalchemy import exists, insert, inspect, select

from app.core.errors import InvalidRequest
from app.core.permissions import CAMUNDA_ADMIN, CAMUNDA_ADMIN_NAME, GROUP_TYPE_SYSTEM
from app.extensions import db
from app.models.tables import group_member_table, group_table, user_table
from app.services.identity import common, groups, passwords, users
from config import ConfigurationError

ADMIN_USER_VARIABLE = "JOBSERVICE_ADMIN_USER"
ADMIN_PASSWORD_VARIABLE = "JOBSERVICE_ADMIN_PASSWORD"

NO_ADMINISTRATOR = (
    "authentication is on (AUTH_ENABLED) but no administrator exists, so nobody could log in. Set "
    f"{ADMIN_USER_VARIABLE} and {ADMIN_PASSWORD_VARIABLE} and run the release step "
    "(flask --app app users bootstrap), or create one with 'flask --app app users create <id> --admin'. "
    "(AUTH_ENABLED=false turns authentication off: only behind a gateway that authenticates.) Refusing to start."
)


def has_administrator():
    m = group_member_table.c
    u = user_table.c
    return db.session.scalar(select(exists().where(
        m.group_id == CAMUNDA_ADMIN, m.user_id == u.id, u.password_hash.isnot(None))))


def require_administrator():
    """Raise ConfigurationError when authentication is on and no administrator could log in."""
    if not current_app.config["AUTH_ENABLED"]:
        return
    if not inspect(db.engine).has_table(user_table.name):
        raise ConfigurationError("the database has no identity tables yet: run the release step "
                                 "(flask --app app db upgrade). Refusing to start.")
    try:
        if not has_administrator():
            raise ConfigurationError(NO_ADMINISTRATOR)
    finally:
        db.session.remove()


def ensure_admin_group():
    if not common.exists(group_table, CAMUNDA_ADMIN):
        db.session.execute(insert(group_table).values(id=CAMUNDA_ADMIN, revision=1, name=CAMUNDA_ADMIN_NAME,
                                                      type=GROUP_TYPE_SYSTEM))


def bootstrap_administrator(user_id, password):
    """Create or update ``user_id`` as an administrator with ``password``. Returns what was done:
    ``"created"``, ``"updated"`` (password or membership changed) or ``"unchanged"``."""
    common.validate_id("User", user_id)
    if not password:
        raise InvalidRequest(f"{ADMIN_PASSWORD_VARIABLE} must not be empty")
    if len(password) > passwords.MAX_PASSWORD_LENGTH:
        raise InvalidRequest(f"the password must be at most {passwords.MAX_PASSWORD_LENGTH} characters")
    ensure_admin_group()
    db.session.commit()
    existing = common.find(user_table, user_id)
    outcome = "unchanged"
    if existing is None:
        users.create_user(None, {"id": user_id}, password)
        outcome = "created"
    elif not passwords.verify_password(existing["password_hash"], password):
        users.set_password(user_id, password)
        outcome = "updated"
    if not groups.is_member(user_id, CAMUNDA_ADMIN):
        groups.add_member(None, CAMUNDA_ADMIN, user_id)
        outcome = "created" if outcome == "created" else "updated"
    db.session.commit()
    return outcome
