"""Worker leases: every executor process registers here and heartbeats.

A job's ``lock_owner`` names the worker process that holds it. A worker whose heartbeat is older
than ``JOB_DEAD_WORKER_SECONDS`` is dead: any live worker's next acquisition takes its jobs over
at once instead of waiting for their ``lock_expiration_time`` (five minutes by default, which is
how long a killed worker's jobs used to wait). Liveness lives in a row, not in a session
advisory lock, so it also works behind a transaction-mode pooler.

No secondary index: the table holds one row per running worker process (a handful), and
``heartbeat_at`` is rewritten every few seconds, which an index on it would turn from a HOT
update into an index write each time. The acquisition's stale-owner check reads the whole
table as one hashed subplan.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_worker"),
    )


def downgrade():
    op.drop_table("worker")
