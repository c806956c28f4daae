"""Batches, historic batches and batch elements.

``batch_element`` holds a batch's selection, written once at creation by one
``INSERT ... SELECT`` with each element's slice number; its primary key
(batch_id, slice, job_id) is also the index an execution job reads its slice through.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH_COLUMNS = lambda: [  # noqa: E731 - the same columns in both tables
    sa.Column("type", sa.String(255), nullable=False),
    sa.Column("total_jobs", sa.Integer(), nullable=False),
    sa.Column("batch_jobs_per_seed", sa.Integer(), nullable=False),
    sa.Column("invocations_per_batch_job", sa.Integer(), nullable=False),
    sa.Column("seed_job_definition_id", sa.String(64)),
    sa.Column("monitor_job_definition_id", sa.String(64)),
    sa.Column("batch_job_definition_id", sa.String(64)),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("create_user_id", sa.String(255)),
    sa.Column("start_time", sa.DateTime(), nullable=False),
    sa.Column("execution_start_time", sa.DateTime()),
    sa.Column("element_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("skipped_elements", sa.Integer(), nullable=False, server_default="0"),
]


def upgrade():
    op.create_table(
        "batch",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        *_BATCH_COLUMNS(),
        sa.Column("jobs_created", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("configuration", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_batch"),
    )
    op.create_table(
        "historic_batch",
        sa.Column("id", sa.String(64), nullable=False),
        *_BATCH_COLUMNS(),
        sa.Column("end_time", sa.DateTime()),
        sa.Column("removal_time", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_historic_batch"),
    )
    op.create_table(
        "batch_element",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "slice", "job_id", name="pk_batch_element"),
    )


def downgrade():
    op.drop_table("batch_element")
    op.drop_table("historic_batch")
    op.drop_table("batch")
