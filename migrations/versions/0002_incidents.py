"""Incidents: one ``failedJob`` incident per job whose retries reached 0.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "incident",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("incident_type", sa.String(255), nullable=False),
        sa.Column("incident_message", sa.String(4000)),
        sa.Column("incident_timestamp", sa.DateTime(), nullable=False),
        sa.Column("configuration", sa.String(255)),
        sa.Column("job_definition_id", sa.String(64)),
        sa.Column("process_instance_id", sa.String(64)),
        sa.Column("execution_id", sa.String(64)),
        sa.Column("process_definition_id", sa.String(64)),
        sa.Column("activity_id", sa.String(255)),
        sa.Column("failed_activity_id", sa.String(255)),
        sa.Column("tenant_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_incident"),
    )
    # Resolving and creating incidents looks them up by the job id they carry.
    op.create_index("ix_incident_configuration", "incident", ["configuration", "incident_type"])
    op.create_index("ix_incident_job_definition_id", "incident", ["job_definition_id"])
    op.create_index("ix_incident_process_instance_id", "incident", ["process_instance_id"])


def downgrade():
    op.drop_table("incident")
