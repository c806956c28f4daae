"""User operation log (Camunda's ACT_HI_OP_LOG): one row per property an operator's request changed.

Read by time (``afterTimestamp``/``beforeTimestamp``, Cockpit's newest-first), by job and by
batch; an annotation addresses all rows of one operation, hence the four indexes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_operation_log",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("operation_id", sa.String(64), nullable=False),
        sa.Column("operation_type", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("user_id", sa.String(255)),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("job_id", sa.String(64)),
        sa.Column("job_definition_id", sa.String(64)),
        sa.Column("batch_id", sa.String(64)),
        sa.Column("process_instance_id", sa.String(64)),
        sa.Column("process_definition_id", sa.String(64)),
        sa.Column("process_definition_key", sa.String(255)),
        sa.Column("deployment_id", sa.String(64)),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("property", sa.String(64)),
        sa.Column("org_value", sa.String(4000)),
        sa.Column("new_value", sa.String(4000)),
        sa.Column("annotation", sa.String(4000)),
        sa.PrimaryKeyConstraint("id", name="pk_user_operation_log"),
    )
    op.create_index("ix_user_operation_log_operation_id", "user_operation_log", ["operation_id"])
    op.create_index("ix_user_operation_log_timestamp", "user_operation_log", ["timestamp"])
    op.create_index("ix_user_operation_log_job_id", "user_operation_log", ["job_id"])
    op.create_index("ix_user_operation_log_batch_id", "user_operation_log", ["batch_id"])


def downgrade():
    op.drop_table("user_operation_log")
