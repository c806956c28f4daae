"""Query speed: a priority index, a stack-trace flag, a key + tenant index.

Benchmark scenario 4 at 100k jobs: ``priorityHigherThanOrEquals``/``priorityLowerThanOrEquals``
over ~1 % of the rows took p50 11.8 ms over HTTP (target 10 ms) because the database walked the
primary key filtering on priority. ``priority`` is not written by a set-retries batch, so this
index does not cost the bulk update its HOT path; only ``PUT /job/{id}/priority`` writes it.

``withException`` (message or stack trace) asked ``job_stacktrace`` whether a trace exists; the
planner answered with a hashed subplan that read every trace key before the first row (three
filters with withException: p50 25 ms at 100k). ``has_stacktrace`` on the job, as Camunda keeps
``EXCEPTION_STACK_ID_``, answers it from the row. It is written where traces are written
(ingestion and the failure path), never by a set-retries batch. With it the SQL of that query
fell from 19.6 to 10.4 ms, most of it a BitmapAnd of the key and the tenant indexes (14k and 10k
entries for 1.4k common rows); ``(process_definition_key, tenant_id)`` finds those rows directly.
Neither column is ever updated.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_job_priority", "job", ["priority", "id"])
    op.create_index("ix_job_process_definition_key_tenant", "job", ["process_definition_key", "tenant_id"])
    op.add_column("job", sa.Column("has_stacktrace", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE job SET has_stacktrace = TRUE WHERE id IN (SELECT job_id FROM job_stacktrace)")


def downgrade():
    with op.batch_alter_table("job") as batch:
        batch.drop_column("has_stacktrace")
    op.drop_index("ix_job_process_definition_key_tenant", table_name="job")
    op.drop_index("ix_job_priority", table_name="job")
