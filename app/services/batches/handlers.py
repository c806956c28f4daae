"""Handlers of the batch engine's own jobs: seed, monitor, and one execution handler per batch type.

They run in the executor's finishing transaction (see app.services.executor.handlers), so their effects
commit together with the deletion of the job that ran them: a seed killed half-way neither
loses nor duplicates elements, and a slice is applied once.

Every batch type's execution jobs run the same generic handler, :func:`execute_slice`, registered
under the type's name (its execution jobs' handler type) when the type enters the registry of
app.services.batches.types. The built-in types are registered at the end of this module.
"""

from app.core.names import HANDLER_BATCH_MONITOR, HANDLER_BATCH_SEED
from app.services.batches import engine, set_job_retries, set_job_retries_by_process
from app.services.batches.types import register_batch_type
from app.services.executor.handlers import job_handler


@job_handler(HANDLER_BATCH_SEED)
def seed(context):
    engine.run_seed(context.configuration["batchId"])


def execute_slice(context):
    """Apply one slice of any batch type (the job's handler type is the batch type)."""
    batch_id = context.configuration["batchId"]
    engine.run_execution_slice(batch_id, context.configuration["slice"])
    # A9: once committed, a slice that may have been the last one completes the batch at once.
    context.after_commit.append(lambda: engine.complete_after_slice(batch_id, context.autocommit))


@job_handler(HANDLER_BATCH_MONITOR)
def monitor(context):
    engine.run_monitor(context.configuration["batchId"], context.id)


def register_batch_types(*batch_types):
    """Add batch types to the registry, each with :func:`execute_slice` as its execution handler.

    Call it at import time (as below, or from a module in ``JOB_HANDLER_MODULES``): the executor
    enables the registered handlers when the application is built.
    """
    for batch_type in batch_types:
        register_batch_type(batch_type)
        if batch_type.stored_as is None:  # a variant's batches run as the stored type's
            job_handler(batch_type.name)(execute_slice)


# The built-in batch types: one module each in this package.
register_batch_types(set_job_retries.SET_JOB_RETRIES, set_job_retries_by_process.SET_JOB_RETRIES_BY_PROCESS)
