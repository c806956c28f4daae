"""SQLAlchemy models. Table and column names are ours; the JSON names are Camunda's (schemas/)."""

from app.models.batch import Batch, BatchSlice, HistoricBatch  # noqa: F401
from app.models.idempotency import IdempotencyKey  # noqa: F401
from app.models.identity import Authorization, Group, GroupMember, Tenant, TenantMember, User  # noqa: F401
from app.models.incident import Incident  # noqa: F401
from app.models.job import Job, JobDefinition, JobStacktrace, new_id  # noqa: F401
from app.models.job_log import JobLog  # noqa: F401
from app.models.operation_log import UserOperationLogEntry  # noqa: F401
from app.models.worker import Worker  # noqa: F401
