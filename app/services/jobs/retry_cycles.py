"""Which ``failedJobRetryTimeCycle`` applies to a job (spec C.10, A19).

The job's own cycle (given at ingestion) wins, then its job definition's (set by
``PUT /api/job-definitions/{id}/retry-time-cycle``), then ``FAILED_JOB_RETRY_CYCLE_BY_TYPE`` for
its handler type, then ``FAILED_JOB_RETRY_TIME_CYCLE``. Batch jobs (seed, monitor, execution)
never have one: Camunda applies cycles only to the job types of BPMN activities, and its batch
jobs fail with the standard strategy (retries - 1, due date unchanged).
"""

from functools import lru_cache

from flask import current_app
from sqlalchemy import select, update

from app.core.retry_cycles import RetryCycleError, initial_retries, parse_retry_cycle
from app.core.text import is_storable
from app.extensions import db
from app.models.tables import job_definition_table
from app.services import access


@lru_cache(maxsize=256)
def _parsed(text):
    try:
        return parse_retry_cycle(text)
    except RetryCycleError:
        return None  # Camunda: a cycle that cannot be applied falls back to the standard strategy


def cycle_text(handler_type, own=None, batch_id=None, definition=None):
    if batch_id is not None:
        return None
    config = current_app.config
    return own or definition or config["FAILED_JOB_RETRY_CYCLE_BY_TYPE"].get(handler_type) \
        or config["FAILED_JOB_RETRY_TIME_CYCLE"]


def retry_cycle(handler_type, own=None, batch_id=None, definition=None):
    """The parsed cycle that applies, or None."""
    text = cycle_text(handler_type, own, batch_id, definition)
    return None if text is None else _parsed(text)


def set_definition_retry_cycle(job_definition_id, cycle, authentication=None):
    """``PUT /api/job-definitions/{id}/retry-time-cycle``: the cycle (checked by the schema) or
    None; False when there is no such definition (or it is another tenant's, A16). Needs
    ``UPDATE`` on the definition's process definition, as Camunda's job definition commands."""
    if not is_storable(job_definition_id):
        return False
    if not access.job_definition_visible(authentication, job_definition_id, access.UPDATE_JOB_DEFINITION):
        return False
    d = job_definition_table.c
    updated = db.session.execute(update(job_definition_table).where(d.id == job_definition_id)
                                 .values(retry_time_cycle=cycle)).rowcount
    db.session.commit()
    return updated == 1


def definition_cycles(definition_ids):
    """{job definition id: its cycle} for those of ``definition_ids`` that have one."""
    ids = sorted({definition_id for definition_id in definition_ids if definition_id})
    d = job_definition_table.c
    found = {}
    for start in range(0, len(ids), 5000):
        found.update(db.session.execute(
            select(d.id, d.retry_time_cycle)
            .where(d.id.in_(ids[start:start + 5000]), d.retry_time_cycle.isnot(None))).all())
    return found


def retries_at_creation(handler_type, own=None, definition=None):
    """The retries a new job gets when none are given: the cycle's count in Camunda 7.24's
    default mode, DEFAULT_JOB_RETRIES in legacy mode or without a cycle."""
    config = current_app.config
    default = config["DEFAULT_JOB_RETRIES"]
    if config["LEGACY_JOB_RETRY_BEHAVIOR_ENABLED"]:
        return default
    return initial_retries(retry_cycle(handler_type, own, definition=definition), default)
