"""Extended statistics (ndistinct) on the job columns the preview groups in pairs, PostgreSQL.

The preview of a set-retries batch (A20) groups (exception_message, tenant_id) and
(activity_id, job_definition_id) side by side. Without these statistics the planner estimates a
pair's groups as the product of its columns' distinct counts (at 1M jobs: 320,000 for the
activity and job definition, which are about 800), finds the hash tables too large for
``work_mem`` and sorts the selection instead: 2 s instead of 0.3 s. ANALYZE fills them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STATISTICS = {
    "st_job_exception_message_tenant_id": ("exception_message", "tenant_id"),
    "st_job_activity_id_job_definition_id": ("activity_id", "job_definition_id"),
}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, columns in STATISTICS.items():
            op.execute(f"CREATE STATISTICS {name} (ndistinct) ON {', '.join(columns)} FROM job")
        op.execute("ANALYZE job")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in STATISTICS:
            op.execute(f"DROP STATISTICS {name}")
