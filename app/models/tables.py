"""The tables as Core ``Table`` objects, defined once for the services' set-based SQL.

The services read and write rows with Core statements (``select(job_table)``,
``update(job_table)``), never ORM objects, so they need the tables rather than the classes.
"""

from app.models.batch import Batch, BatchSlice, HistoricBatch
from app.models.idempotency import IdempotencyKey
from app.models.identity import Authorization, Group, GroupMember, Tenant, TenantMember, User
from app.models.incident import Incident
from app.models.job import Job, JobDefinition, JobStacktrace
from app.models.job_log import JobLog
from app.models.operation_log import UserOperationLogEntry
from app.models.worker import Worker

job_table = Job.__table__
job_definition_table = JobDefinition.__table__
stacktrace_table = JobStacktrace.__table__
job_log_table = JobLog.__table__
incident_table = Incident.__table__
batch_table = Batch.__table__
historic_batch_table = HistoricBatch.__table__
batch_slice_table = BatchSlice.__table__

user_table = User.__table__
group_table = Group.__table__
group_member_table = GroupMember.__table__
tenant_table = Tenant.__table__
tenant_member_table = TenantMember.__table__
authorization_table = Authorization.__table__
worker_table = Worker.__table__
idempotency_key_table = IdempotencyKey.__table__
operation_log_table = UserOperationLogEntry.__table__
