"""Jobs and job definitions.

Index policy (PostgreSQL first): a bulk set-retries rewrites ``retries`` (and ``due_date``
when asked), the executor rewrites the lock columns and ``revision``. An index containing any
of those columns makes each such update non-HOT: every index of the row gets a new entry, and
on this kind of machine that made bulk updates 7-9x slower. So no index here contains
``retries``, ``due_date``, ``lock_owner``, ``lock_expiration_time``, ``revision``,
``exception_message`` or ``suspended``, and the table is created with fillfactor 70 so that
updated row versions fit on their page. Filters on those columns are served by the
selective indexes they are combined with, or by the primary key order for first pages.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_definition",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("activity_id", sa.String(255)),
        sa.Column("job_type", sa.String(255), nullable=False),
        sa.Column("job_configuration", sa.String(255)),
        sa.Column("process_definition_id", sa.String(64)),
        sa.Column("process_definition_key", sa.String(255)),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("overriding_priority", sa.BigInteger()),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("deployment_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_job_definition"),
    )
    # Ingestion reuses definitions by (process definition key, activity, handler type);
    # the activityId job filter looks definitions up by activity; batches by configuration.
    op.create_index("ix_job_definition_key_activity", "job_definition",
                    ["process_definition_key", "activity_id", "job_type"])
    op.create_index("ix_job_definition_activity_id", "job_definition", ["activity_id"])
    op.create_index("ix_job_definition_job_configuration", "job_definition", ["job_configuration"])

    op.create_table(
        "job",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("handler_type", sa.String(255), nullable=False),
        sa.Column("handler_configuration", sa.JSON()),
        sa.Column("job_definition_id", sa.String(64)),
        sa.Column("due_date", sa.DateTime()),
        sa.Column("process_instance_id", sa.String(64)),
        sa.Column("execution_id", sa.String(64)),
        sa.Column("process_definition_id", sa.String(64)),
        sa.Column("process_definition_key", sa.String(255)),
        sa.Column("activity_id", sa.String(255)),
        sa.Column("deployment_id", sa.String(64)),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("exception_message", sa.String(4000)),
        sa.Column("exception_stacktrace", sa.Text()),
        sa.Column("failed_activity_id", sa.String(255)),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("priority", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("create_time", sa.DateTime(), nullable=False),
        sa.Column("batch_id", sa.String(64)),
        sa.Column("lock_owner", sa.String(255)),
        sa.Column("lock_expiration_time", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_job"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE job SET (fillfactor = 70)")

    # Each index below serves a filter or sort key of the job query; (column, id) pairs also
    # serve the default "id asc" order of a first page filtered by that column.
    op.create_index("ix_job_process_instance_id", "job", ["process_instance_id", "id"])
    op.create_index("ix_job_process_definition_key", "job", ["process_definition_key", "id"])
    op.create_index("ix_job_process_definition_id", "job", ["process_definition_id"])
    op.create_index("ix_job_execution_id", "job", ["execution_id"])
    # jobDefinitionId filter; also how a batch finds and counts its seed/monitor/execution jobs.
    op.create_index("ix_job_job_definition_id", "job", ["job_definition_id"])
    op.create_index("ix_job_tenant_id", "job", ["tenant_id", "id"])
    op.create_index("ix_job_create_time", "job", ["create_time"])
    op.create_index("ix_job_failed_activity_id", "job", ["failed_activity_id"])
    # Acquisition walks jobs of the handler types a worker serves in priority order.
    op.create_index("ix_job_acquisition", "job", ["handler_type", sa.text("priority DESC")])


def downgrade():
    op.drop_table("job")
    op.drop_table("job_definition")
