"""Idempotency keys of POST /job/retries and POST /process-instance/job-retries (A20).

One row per (user, key): the request's hash, the batch it created and when. The primary key
makes concurrent duplicates wait for each other; the create_time index serves the expiry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotency_key",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("create_time", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_key"),
    )
    op.create_index("ix_idempotency_key_create_time", "idempotency_key", ["create_time"])


def downgrade():
    op.drop_index("ix_idempotency_key_create_time", table_name="idempotency_key")
    op.drop_table("idempotency_key")
