"""Scale: stack traces beside the job, and an acquisition index that yields jobs in order.

Measured with benchmarks/ (N = 20k-100k jobs, 40 % failed, on 2 cores):

- Stack traces inline made a failed job's row ~550 bytes, most of it a compressed trace
  below PostgreSQL's TOAST threshold, so it stayed in the row: at fillfactor 70 a page kept
  room for ~4 new row versions and only 72 % of a bulk set-retries' updates were HOT (the
  rest wrote every index). They move to ``job_stacktrace`` (Camunda keeps them in a byte
  array too); ``GET /job/{id}/stacktrace`` and the ``withException`` filter read it there.
  With the trace out a row is ~250 bytes, yet at fillfactor 70 a page still ran short of room
  when 40 % of its rows were revived at once (89 % HOT), so the fillfactor goes to 60.
- Acquisition asks for executable jobs of the handler types a worker serves in priority
  order, then due date. With ``(handler_type, priority DESC)`` the database read and sorted
  the whole backlog on every round (10k waiting jobs: 3,730 buffers, 11 ms per 10 jobs).
  ``(handler_type, priority DESC, due_date)`` returns them in order, one index range per
  handler type, and a round stops after the few rows it needs. ``due_date`` in this index
  makes an update that *changes* a due date non-HOT; a set-retries batch without ``dueDate``
  (the common case) does not change it and stays HOT.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE job SET (fillfactor = 60)")
    op.create_table(
        "job_stacktrace",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("stacktrace", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_job_stacktrace"),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name="fk_job_stacktrace_job_id_job", ondelete="CASCADE"),
    )
    op.execute("INSERT INTO job_stacktrace (job_id, stacktrace) "
               "SELECT id, exception_stacktrace FROM job WHERE exception_stacktrace IS NOT NULL")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("exception_stacktrace")
    op.drop_index("ix_job_acquisition", table_name="job")
    # SQLite sorts NULLs first in ascending order anyway and cannot say so in an index.
    due_date = "due_date ASC NULLS FIRST" if op.get_bind().dialect.name == "postgresql" else "due_date ASC"
    op.create_index("ix_job_acquisition", "job", ["handler_type", sa.text("priority DESC"), sa.text(due_date)])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE job SET (fillfactor = 70)")
    op.drop_index("ix_job_acquisition", table_name="job")
    op.create_index("ix_job_acquisition", "job", ["handler_type", sa.text("priority DESC")])
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("exception_stacktrace", sa.Text()))
    op.execute("UPDATE job SET exception_stacktrace = "
               "(SELECT stacktrace FROM job_stacktrace s WHERE s.job_id = job.id)")
    op.drop_table("job_stacktrace")
