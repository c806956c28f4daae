"""Identity: users, groups, tenants, memberships and authorizations (Camunda's ACT_ID_* and ACT_RU_AUTHORIZATION).

Passwords are argon2 hashes (``password_hash``). Memberships go with their user, group or tenant
(ON DELETE CASCADE; SQLite enforces it because the app turns ``foreign_keys`` on). Lookups of
a caller's groups and tenants start from the user or the group, hence the member indexes; an
authorization check reads the rows of one owner and resource type, which the owner-first
unique constraints serve.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identity_user",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("first_name", sa.String(255)),
        sa.Column("last_name", sa.String(255)),
        sa.Column("email", sa.String(255)),
        sa.Column("password_hash", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_identity_user"),
    )
    op.create_table(
        "identity_group",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("name", sa.String(255)),
        sa.Column("type", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_identity_group"),
    )
    op.create_table(
        "identity_group_member",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "group_id", name="pk_identity_group_member"),
        sa.ForeignKeyConstraint(["user_id"], ["identity_user.id"], ondelete="CASCADE",
                                name="fk_identity_group_member_user_id_identity_user"),
        sa.ForeignKeyConstraint(["group_id"], ["identity_group.id"], ondelete="CASCADE",
                                name="fk_identity_group_member_group_id_identity_group"),
    )
    op.create_index("ix_identity_group_member_group_id", "identity_group_member", ["group_id"])
    op.create_table(
        "identity_tenant",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("name", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_identity_tenant"),
    )
    op.create_table(
        "identity_tenant_member",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64)),
        sa.Column("group_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_identity_tenant_member"),
        sa.ForeignKeyConstraint(["tenant_id"], ["identity_tenant.id"], ondelete="CASCADE",
                                name="fk_identity_tenant_member_tenant_id_identity_tenant"),
        sa.ForeignKeyConstraint(["user_id"], ["identity_user.id"], ondelete="CASCADE",
                                name="fk_identity_tenant_member_user_id_identity_user"),
        sa.ForeignKeyConstraint(["group_id"], ["identity_group.id"], ondelete="CASCADE",
                                name="fk_identity_tenant_member_group_id_identity_group"),
        sa.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_member"),
        sa.UniqueConstraint("tenant_id", "user_id", name="uq_identity_tenant_member_tenant_id_user_id"),
        sa.UniqueConstraint("tenant_id", "group_id", name="uq_identity_tenant_member_tenant_id_group_id"),
    )
    op.create_index("ix_identity_tenant_member_user_id", "identity_tenant_member", ["user_id"])
    op.create_index("ix_identity_tenant_member_group_id", "identity_tenant_member", ["group_id"])
    op.create_table(
        "identity_authorization",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255)),
        sa.Column("group_id", sa.String(255)),
        sa.Column("resource_type", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(255), nullable=False),
        sa.Column("permissions", sa.Integer(), nullable=False),
        sa.Column("removal_time", sa.DateTime()),
        sa.Column("root_process_instance_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_identity_authorization"),
        sa.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_owner"),
        sa.UniqueConstraint("user_id", "type", "resource_type", "resource_id", name="uq_identity_authorization_user"),
        sa.UniqueConstraint("group_id", "type", "resource_type", "resource_id", name="uq_identity_authorization_group"),
    )


def downgrade():
    op.drop_table("identity_authorization")
    op.drop_index("ix_identity_tenant_member_group_id", table_name="identity_tenant_member")
    op.drop_index("ix_identity_tenant_member_user_id", table_name="identity_tenant_member")
    op.drop_table("identity_tenant_member")
    op.drop_table("identity_tenant")
    op.drop_index("ix_identity_group_member_group_id", table_name="identity_group_member")
    op.drop_table("identity_group_member")
    op.drop_table("identity_group")
    op.drop_table("identity_user")
