"""A batch's selection as one row per slice (``batch_slice``) instead of one row per element.

``batch_element`` held one ``(batch_id, slice, job_id)`` row per selected job: at 1M jobs the
creation of a batch over 400,000 failed jobs spent 2.6 s writing those rows and their primary
key, and the batch's end as long deleting them. ``batch_slice`` holds each slice's job ids as
one array (JSON on SQLite) with its size: one row and one index entry per execution job
(spec A24). The rows of batches running during the upgrade are carried over, slice by slice,
and back on downgrade.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

JobIdList = sa.JSON().with_variant(ARRAY(sa.String(64)), "postgresql")


def upgrade():
    op.create_table(
        "batch_slice",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("job_ids", JobIdList, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "slice", name="pk_batch_slice"),
    )
    aggregate = "array_agg(job_id)" if op.get_bind().dialect.name == "postgresql" else "json_group_array(job_id)"
    op.execute(f"INSERT INTO batch_slice (batch_id, slice, size, job_ids) "
               f"SELECT batch_id, slice, count(*), {aggregate} FROM batch_element GROUP BY batch_id, slice")
    op.drop_table("batch_element")


def downgrade():
    op.create_table(
        "batch_element",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "slice", "job_id", name="pk_batch_element"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO batch_element (batch_id, slice, job_id) "
                   "SELECT batch_id, slice, unnest(job_ids) FROM batch_slice")
    else:
        op.execute("INSERT INTO batch_element (batch_id, slice, job_id) "
                   "SELECT batch_id, slice, value FROM batch_slice, json_each(batch_slice.job_ids)")
    op.drop_table("batch_slice")
