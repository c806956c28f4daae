"""Names shared by the layers: job types, handler types, batch types, incident types, tasks.

They are stored in rows and sent in broker messages, so they never change once released.
"""

# The one process engine this service is, as Camunda Run names its engine (spec C.1).
DEFAULT_ENGINE = "default"
# What GET /version reports: the Camunda REST API version this service implements (spec A18).
CAMUNDA_API_VERSION = "7.24.0"

# Camunda's job types (ACT_RU_JOB.TYPE_).
JOB_TYPE_MESSAGE = "message"
JOB_TYPE_TIMER = "timer"
JOB_TYPES = (JOB_TYPE_MESSAGE, JOB_TYPE_TIMER)

# The batch engine's own job handler types, as Camunda names them.
HANDLER_BATCH_SEED = "batch-seed-job"
HANDLER_BATCH_MONITOR = "batch-monitor-job"

# Batch types (Camunda's Batch.TYPE_*); each is also the handler type of its execution jobs.
BATCH_TYPE_SET_JOB_RETRIES = "set-job-retries"
# Our registry name of the by-process variant; its batches are "set-job-retries" batches (A20).
BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS = "set-job-retries-by-process"

# Demo handler types start with this prefix; JOB_DEMO_HANDLERS switches them on or off.
DEMO_HANDLER_PREFIX = "demo."

# Camunda's incident type for a job out of retries.
INCIDENT_TYPE_FAILED_JOB = "failedJob"

# Celery task names: explicit and stable, so that renaming a module never strands a queued message.
TASK_ACQUIRE = "executor.acquire"
TASK_EXECUTE = "executor.execute"
