"""An index for the priority filters and sort key of the job query.

Benchmark scenario 4 at 100k jobs: ``priorityHigherThanOrEquals``/``priorityLowerThanOrEquals``
over ~1 % of the rows took p50 11.8 ms over HTTP (target 10 ms) because the database walked the
primary key filtering on priority. ``priority`` is not written by a set-retries batch, so this
index does not cost the bulk update its HOT path; only ``PUT /job/{id}/priority`` writes it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_job_priority", "job", ["priority", "id"])


def downgrade():
    op.drop_index("ix_job_priority", table_name="job")
