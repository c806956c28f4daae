"""Job filters: a trigram index for exceptionMessageLike, an index for the batchId filter.

``exceptionMessageLike`` (spec A18) takes Camunda's LIKE patterns, and the ones users write
start with ``%`` (``%Connection refused%``), which no b-tree can serve: without an index every
such query reads the whole job table. On PostgreSQL a GIN index over the trigrams of
``exception_message`` (extension pg_trgm, shipped with PostgreSQL's contrib and "trusted" since
PostgreSQL 13, so the database owner may create it) finds the candidate rows of any pattern
with at least one three-character run; the LIKE then re-checks them. On SQLite the same index
is a plain b-tree (the LIKE is a case-sensitive GLOB there, app.services.jobs.query).

Only the failure path and ingestion write ``exception_message``; a set-retries batch leaves it
alone (B.5.12), so its updates stay HOT. ``batch_id`` is written once, at insert.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_job_exception_message_trgm", "job", ["exception_message"], postgresql_using="gin",
                        postgresql_ops={"exception_message": "gin_trgm_ops"})
    else:
        op.create_index("ix_job_exception_message_trgm", "job", ["exception_message"])
    op.create_index("ix_job_batch_id", "job", ["batch_id", "id"])


def downgrade():
    op.drop_index("ix_job_batch_id", table_name="job")
    op.drop_index("ix_job_exception_message_trgm", table_name="job")
    # pg_trgm stays: other objects of the database may use it.

