"""Jobs and job definitions (Camunda's ACT_RU_JOB and ACT_RU_JOBDEF).

Dates are naive UTC with millisecond precision (see app.core.dates). Which columns are indexed is
decided in the migrations, where each index says why it exists: a column that a bulk
set-retries writes (``retries``, ``due_date``, the lock columns, ``revision``) is deliberately
left out of every index so that those updates stay HOT on PostgreSQL.
"""

import uuid

from app.core.names import JOB_TYPE_MESSAGE
from app.extensions import db


def new_id():
    """UUID string ids for everything the service creates (spec A13)."""
    return str(uuid.uuid4())


class JobDefinition(db.Model):
    __tablename__ = "job_definition"

    id = db.Column(db.String(64), primary_key=True, default=new_id)
    activity_id = db.Column(db.String(255))
    job_type = db.Column(db.String(255), nullable=False)
    job_configuration = db.Column(db.String(255))
    process_definition_id = db.Column(db.String(64))
    process_definition_key = db.Column(db.String(255))
    suspended = db.Column(db.Boolean, nullable=False, default=False)
    overriding_priority = db.Column(db.BigInteger)
    tenant_id = db.Column(db.String(64))
    deployment_id = db.Column(db.String(64))


class Job(db.Model):
    __tablename__ = "job"

    id = db.Column(db.String(64), primary_key=True, default=new_id)
    revision = db.Column(db.Integer, nullable=False, default=1)
    type = db.Column(db.String(16), nullable=False, default=JOB_TYPE_MESSAGE)
    handler_type = db.Column(db.String(255), nullable=False)
    handler_configuration = db.Column(db.JSON)
    job_definition_id = db.Column(db.String(64))
    due_date = db.Column(db.DateTime)
    process_instance_id = db.Column(db.String(64))
    execution_id = db.Column(db.String(64))
    process_definition_id = db.Column(db.String(64))
    process_definition_key = db.Column(db.String(255))
    activity_id = db.Column(db.String(255))
    deployment_id = db.Column(db.String(64))
    retries = db.Column(db.Integer, nullable=False, default=3)
    exception_message = db.Column(db.String(4000))
    failed_activity_id = db.Column(db.String(255))
    # Camunda's EXCEPTION_STACK_ID_: whether job_stacktrace holds a trace, so that the
    # withException filter needs no lookup there.
    has_stacktrace = db.Column(db.Boolean, nullable=False, default=False)
    suspended = db.Column(db.Boolean, nullable=False, default=False)
    priority = db.Column(db.BigInteger, nullable=False, default=0)
    tenant_id = db.Column(db.String(64))
    create_time = db.Column(db.DateTime, nullable=False)
    batch_id = db.Column(db.String(64))
    lock_owner = db.Column(db.String(255))
    lock_expiration_time = db.Column(db.DateTime)


class JobStacktrace(db.Model):
    """The last failure's stack trace, kept beside the job as Camunda keeps it in a byte array.

    Inline, a few hundred compressed bytes per failed job (below PostgreSQL's TOAST threshold)
    left too little room on a page for the new row versions of a bulk set-retries, which then
    stopped being HOT updates. Deleted with its job (ON DELETE CASCADE).
    """

    __tablename__ = "job_stacktrace"

    job_id = db.Column(db.String(64), db.ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    stacktrace = db.Column(db.Text, nullable=False)
