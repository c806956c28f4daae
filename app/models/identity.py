"""Users, groups, tenants, their memberships and authorizations (Camunda's ACT_ID_* and ACT_RU_AUTHORIZATION).

The shapes follow Camunda's tables so that its REST DTOs map one to one. Differences: the
password is an argon2 hash (``password_hash``, with its parameters and salt inside, as
argon2-cffi writes it) instead of Camunda's SHA + salt columns; memberships are deleted with
their user, group or tenant by the database (``ON DELETE CASCADE``); and an authorization names
exactly one owner, which a check constraint enforces (Camunda checks it in Java).

Authorization lookups always start from the owner (this user, these groups, or ``*``) and the
resource type, so the two unique constraints lead with the owner and serve those lookups too.
"""

from app.extensions import db


class User(db.Model):
    __tablename__ = "identity_user"

    id = db.Column(db.String(64), primary_key=True)
    revision = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    first_name = db.Column(db.String(255))
    last_name = db.Column(db.String(255))
    email = db.Column(db.String(255))
    # None: the user cannot log in (Camunda allows users without credentials, too).
    password_hash = db.Column(db.String(255))


class Group(db.Model):
    __tablename__ = "identity_group"

    id = db.Column(db.String(64), primary_key=True)
    revision = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    name = db.Column(db.String(255))
    type = db.Column(db.String(255))


class GroupMember(db.Model):
    __tablename__ = "identity_group_member"
    __table_args__ = (db.Index("ix_identity_group_member_group_id", "group_id"),)

    user_id = db.Column(db.String(64), db.ForeignKey("identity_user.id", ondelete="CASCADE"), primary_key=True)
    group_id = db.Column(db.String(64), db.ForeignKey("identity_group.id", ondelete="CASCADE"), primary_key=True)


class Tenant(db.Model):
    __tablename__ = "identity_tenant"

    id = db.Column(db.String(64), primary_key=True)
    revision = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    name = db.Column(db.String(255))


class TenantMember(db.Model):
    """A user or a group (exactly one) belonging to a tenant."""

    __tablename__ = "identity_tenant_member"
    __table_args__ = (
        db.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_member"),
        db.UniqueConstraint("tenant_id", "user_id", name="uq_identity_tenant_member_tenant_id_user_id"),
        db.UniqueConstraint("tenant_id", "group_id", name="uq_identity_tenant_member_tenant_id_group_id"),
        db.Index("ix_identity_tenant_member_user_id", "user_id"),
        db.Index("ix_identity_tenant_member_group_id", "group_id"),
    )

    id = db.Column(db.String(64), primary_key=True)
    tenant_id = db.Column(db.String(64), db.ForeignKey("identity_tenant.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.String(64), db.ForeignKey("identity_user.id", ondelete="CASCADE"))
    group_id = db.Column(db.String(64), db.ForeignKey("identity_group.id", ondelete="CASCADE"))


class Authorization(db.Model):
    """One row of Camunda's ACT_RU_AUTHORIZATION: an owner (a user, ``*`` for GLOBAL, or a group),
    a resource type and id (``*`` for all), and a permission bit mask (app.core.permissions)."""

    __tablename__ = "identity_authorization"
    __table_args__ = (
        db.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_owner"),
        db.UniqueConstraint("user_id", "type", "resource_type", "resource_id", name="uq_identity_authorization_user"),
        db.UniqueConstraint("group_id", "type", "resource_type", "resource_id", name="uq_identity_authorization_group"),
    )

    id = db.Column(db.String(64), primary_key=True)
    revision = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    type = db.Column(db.Integer, nullable=False)
    user_id = db.Column(db.String(255))
    group_id = db.Column(db.String(255))
    resource_type = db.Column(db.Integer, nullable=False)
    resource_id = db.Column(db.String(255), nullable=False)
    permissions = db.Column(db.Integer, nullable=False)
    removal_time = db.Column(db.DateTime)
    root_process_instance_id = db.Column(db.String(64))
