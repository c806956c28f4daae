"""Jobs and job definitions (Camunda's ACT_RU_JOB and ACT_RU_JOBDEF).

Dates are naive UTC with millisecond precision (see app.core.dates). The indexes, server defaults
and the job table's fillfactor are declared here exactly as migrations/versions creates them
(tests/db/test_migrations.py compares the two), so that autogenerate sees no difference. Each
index says why it exists; the migrations' docstrings hold the measurements. A column that a
bulk set-retries writes (``retries``, ``due_date``, the lock columns, ``revision``) is
deliberately left out of every index so that those updates stay HOT on PostgreSQL; the one
exception, ``due_date`` in ``ix_job_acquisition``, is explained there.
"""

import uuid

from sqlalchemy import DDL, event

from app.core.names import JOB_TYPE_MESSAGE
from app.extensions import db
from app.models.ddl import AscNullsFirst


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
    suspended = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    overriding_priority = db.Column(db.BigInteger)
    tenant_id = db.Column(db.String(64))
    deployment_id = db.Column(db.String(64))
    # Extension (spec A19): the failedJobRetryTimeCycle of the definition's jobs (Camunda: of the
    # activity), set by PUT /api/job-definitions/{id}/retry-time-cycle.
    retry_time_cycle = db.Column(db.String(255))

    __table_args__ = (
        # Ingestion reuses definitions by (process definition key, activity, handler type).
        db.Index("ix_job_definition_key_activity", process_definition_key, activity_id, job_type),
        # The activityId job filter looks definitions up by activity.
        db.Index("ix_job_definition_activity_id", activity_id),
        # A batch's seed, monitor and execution definitions carry the batch id as their
        # configuration; batches look them up by it.
        db.Index("ix_job_definition_job_configuration", job_configuration),
    )


class Job(db.Model):
    __tablename__ = "job"

    id = db.Column(db.String(64), primary_key=True, default=new_id)
    revision = db.Column(db.Integer, nullable=False, default=1, server_default="1")
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
    has_stacktrace = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    suspended = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    priority = db.Column(db.BigInteger, nullable=False, default=0, server_default="0")
    tenant_id = db.Column(db.String(64))
    create_time = db.Column(db.DateTime, nullable=False)
    batch_id = db.Column(db.String(64))
    lock_owner = db.Column(db.String(255))
    lock_expiration_time = db.Column(db.DateTime)
    # Extensions (spec A19), in no index so that a set-retries update stays HOT: the job's own
    # failedJobRetryTimeCycle (given at ingestion), and the set-retries batch that last revived it.
    retry_time_cycle = db.Column(db.String(255))
    revived_by_batch_id = db.Column(db.String(64))

    __table_args__ = (
        # Each (column, id) index serves a filter of the job query and also the default
        # "id asc" order of a first page filtered by that column.
        db.Index("ix_job_process_instance_id", process_instance_id, id),
        db.Index("ix_job_process_definition_key", process_definition_key, id),
        db.Index("ix_job_process_definition_id", process_definition_id),
        db.Index("ix_job_execution_id", execution_id),
        # jobDefinitionId filter; also how a batch finds and counts its seed/monitor/execution jobs.
        db.Index("ix_job_job_definition_id", job_definition_id),
        db.Index("ix_job_tenant_id", tenant_id, id),
        db.Index("ix_job_create_time", create_time),
        db.Index("ix_job_failed_activity_id", failed_activity_id),
        # Acquisition asks for executable jobs of the handler types a worker serves in priority
        # order, then due date (app.services.executor). This order returns them one index range
        # per handler type, and a round stops after the few rows it needs instead of sorting the
        # whole backlog. due_date here makes an update that *changes* a due date non-HOT; a
        # set-retries batch without dueDate (the common case) leaves it alone and stays HOT (0004).
        db.Index("ix_job_acquisition", handler_type, priority.desc(), AscNullsFirst(due_date)),
        # priorityHigherThanOrEquals / priorityLowerThanOrEquals without walking the primary key.
        # Only PUT /job/{id}/priority writes priority, never a set-retries batch (0005).
        db.Index("ix_job_priority", priority, id),
        # Key and tenant filters together find their common rows directly instead of ANDing
        # the bitmaps of the two single-column indexes (0005).
        db.Index("ix_job_process_definition_key_tenant", process_definition_key, tenant_id),
        # exceptionMessageLike (spec A18) with any pattern, a leading % included: a trigram GIN
        # index on PostgreSQL (pg_trgm). SQLite ignores the two keywords and builds a b-tree,
        # which serves exceptionMessage and prefix patterns. Only a failure writes the column,
        # never a set-retries batch (0010).
        db.Index("ix_job_exception_message_trgm", exception_message, postgresql_using="gin",
                 postgresql_ops={"exception_message": "gin_trgm_ops"}),
        # The batchId filter and sort key (spec A18); batch_id is written once, at insert (0010).
        db.Index("ix_job_batch_id", batch_id, id),
        {
            # Room on each page for the new row versions of a bulk set-retries, so that its
            # updates stay HOT even when 40 % of a page's rows are revived at once (0004: at
            # 70 only 89 % of them were). The keyword is registered in app.models.ddl.
            "postgresql_with": {"fillfactor": 60},
        },
    )


# The column pairs the set-retries preview groups side by side (A20), with PostgreSQL extended
# statistics (ndistinct) on each, as migration 0015 creates them: without them the planner takes
# a pair's groups for the product of its columns' distinct counts and sorts instead of hashing.
JOB_BREAKDOWN_PAIRS = {
    "st_job_exception_message_tenant_id": ("exception_message", "tenant_id"),
    "st_job_activity_id_job_definition_id": ("activity_id", "job_definition_id"),
}
for _name, _columns in JOB_BREAKDOWN_PAIRS.items():
    event.listen(Job.__table__, "after_create", DDL(
        f"CREATE STATISTICS {_name} (ndistinct) ON {', '.join(_columns)} FROM job").execute_if(dialect="postgresql"))


class JobStacktrace(db.Model):
    """The last failure's stack trace, kept beside the job as Camunda keeps it in a byte array.

    Inline, a few hundred compressed bytes per failed job (below PostgreSQL's TOAST threshold)
    left too little room on a page for the new row versions of a bulk set-retries, which then
    stopped being HOT updates. Deleted with its job (ON DELETE CASCADE).
    """

    __tablename__ = "job_stacktrace"

    job_id = db.Column(db.String(64), db.ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    stacktrace = db.Column(db.Text, nullable=False)
