"""Handlers of the batch engine's own jobs: seed, execution (one per batch type), monitor.

They run in the executor's finishing transaction (see app.services.executor.handlers), so their effects
commit together with the deletion of the job that ran them: a seed killed half-way neither
loses nor duplicates elements, and a slice is applied once.
"""

from app.core.names import BATCH_TYPE_SET_JOB_RETRIES, HANDLER_BATCH_MONITOR, HANDLER_BATCH_SEED
from app.services.batches import engine
from app.services.executor.handlers import job_handler


@job_handler(HANDLER_BATCH_SEED)
def seed(context):
    engine.run_seed(context.configuration["batchId"])


@job_handler(BATCH_TYPE_SET_JOB_RETRIES)
def set_job_retries_slice(context):
    batch_id = context.configuration["batchId"]
    engine.run_execution_slice(context.configuration)
    # A9: the last execution job to finish completes the batch at once, after its commit.
    context.after_commit.append(lambda: engine.complete_in_own_transaction(batch_id))


@job_handler(HANDLER_BATCH_MONITOR)
def monitor(context):
    engine.run_monitor(context.configuration["batchId"], context.id)
