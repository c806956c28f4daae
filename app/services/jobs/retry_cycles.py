"""Which ``failedJobRetryTimeCycle`` applies to a job (spec C.10, A19).

The job's own cycle (given at ingestion) wins, then ``FAILED_JOB_RETRY_CYCLE_BY_TYPE`` for
its handler type, then ``FAILED_JOB_RETRY_TIME_CYCLE``. Batch jobs (seed, monitor, execution)
never have one: Camunda applies cycles only to the job types of BPMN activities, and its batch
jobs fail with the standard strategy (retries - 1, due date unchanged).
"""

from functools import lru_cache

from flask import current_app

from app.core.retry_cycles import RetryCycleError, initial_retries, parse_retry_cycle


@lru_cache(maxsize=256)
def _parsed(text):
    try:
        return parse_retry_cycle(text)
    except RetryCycleError:
        return None  # Camunda: a cycle that cannot be applied falls back to the standard strategy


def cycle_text(handler_type, own=None, batch_id=None):
    if batch_id is not None:
        return None
    config = current_app.config
    return own or config["FAILED_JOB_RETRY_CYCLE_BY_TYPE"].get(handler_type) \
        or config["FAILED_JOB_RETRY_TIME_CYCLE"]


def retry_cycle(handler_type, own=None, batch_id=None):
    """The parsed cycle that applies, or None."""
    text = cycle_text(handler_type, own, batch_id)
    return None if text is None else _parsed(text)


def retries_at_creation(handler_type, own=None):
    """The retries a new job gets when none are given: the cycle's count in Camunda 7.24's
    default mode, DEFAULT_JOB_RETRIES in legacy mode or without a cycle."""
    config = current_app.config
    default = config["DEFAULT_JOB_RETRIES"]
    if config["LEGACY_JOB_RETRY_BEHAVIOR_ENABLED"]:
        return default
    return initial_retries(retry_cycle(handler_type, own), default)
