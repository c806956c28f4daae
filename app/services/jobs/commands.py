"""Synchronous operations on single jobs and on sets of jobs (spec B.3.5, B.5.12, B.6.2).

Every update bumps the job's ``revision``: an executor task that holds the job at the old
revision then finds it changed and does nothing (its lock simply expires), the same outcome as
Camunda's OptimisticLockingException for a job changed while it ran. Where an operation reads a
row and then writes it (execute, delete), the write is conditional on the revision it read and
is retried a few times when someone else changed the row in between.

Every command takes the caller's ``authentication`` (None: authentication off, no checks) and
runs app.services.access's guard before it writes: a job of another tenant is "not found", a
missing permission is Camunda's 403 ``AuthorizationException`` (A16).

Deviations from Camunda (see the README's API notes):
* unknown job ids are 404 ``InvalidRequestException`` everywhere (Camunda gives 500 for some);
* ``POST /job/{id}/execute`` and ``DELETE /job/{id}`` refuse a job whose lock is held by a
  worker (lock not expired) with 409 instead of running it twice / Camunda's 500;
* the ``cascade`` flag of ``PUT /job/{id}/duedate`` is accepted and ignored (there are no
  timer cycles whose follow-up jobs it could reach).
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.dates import format_date, utcnow
from app.core.errors import InvalidRequest, NotFound, RestException
from app.core.names import JOB_TYPE_TIMER
from app.core.text import is_storable
from app.core.timers import TIMER_KEYS, TimerDefinitionError, resolve_due_date, timer_definition
from app.extensions import db
from app.models.job_log import DELETED
from app.models.tables import job_table, stacktrace_table
from app.services import access, audit, job_log
from app.services.dispatch import wake_executor_after_commit
from app.services.executor.acquire import lock_owner_token, unlock_job
from app.services.executor.execute import execute_job
from app.services.executor.handlers import enabled_handlers
from app.services.executor.workers import dead_before, dead_worker_ids
from app.services.incidents import delete_failed_job_incidents
from app.services.jobs.retries import UNSET, set_job_retries
from app.services.sql import is_postgres

log = logging.getLogger(__name__)

OPTIMISTIC_ATTEMPTS = 5


def _no_job_found(job_id):
    # Camunda's engine message for the retries / due date / priority / suspension commands.
    return NotFound(f"No job found with id '{job_id}'.")


def _does_not_exist(job_id):
    # Camunda's REST message for execute, stacktrace and delete (and GET /job/{id}).
    return NotFound(f"Job with id {job_id} does not exist")


def _job_exists(job_id):
    return db.session.execute(select(job_table.c.id).where(job_table.c.id == job_id)).first() is not None


def _lock_columns(now):
    """The columns ``_is_locked`` reads, ``owner_dead`` included."""
    c = job_table.c
    return (c.revision, c.lock_owner, c.lock_expiration_time,
            c.lock_owner.in_(dead_worker_ids(dead_before(now)).scalar_subquery()).label("owner_dead"))


def _is_locked(row, now):
    """Held by a worker: the lock has not expired and its owner is not a dead worker (an owner
    without expiry counts as free, and so does a dead worker's lock: acquisition treats both
    the same way)."""
    return row.lock_expiration_time is not None and row.lock_expiration_time > now and not row.owner_dead


def _locked_message(job_id, row, zone, action):
    return (f"Job with id {job_id} is being executed by {row.lock_owner or 'a worker'} (locked until "
            f"{format_date(row.lock_expiration_time, zone)}); it cannot be {action} now. Try again later.")


# --- retries, due date, priority, suspension ------------------------------------------------

def set_retries(job_id, retries, due_date_set=False, due_date=None, authentication=None):
    """``PUT /job/{id}/retries``: the B.5.12 effects on one job, through the set-based service."""
    if not is_storable(job_id):
        raise _no_job_found(job_id)
    access.check_job(authentication, job_id, access.RETRY_JOB, lambda: _no_job_found(job_id))
    before = audit.job_before(job_id)
    result = set_job_retries([job_id], retries, due_date if due_date_set else UNSET)
    if result.missing:
        db.session.rollback()
        raise _no_job_found(job_id)
    audit.log_job_operation(audit.SET_JOB_RETRIES, job_id, before, [("retries", "retries", retries)] + (
        [("dueDate", "due_date", due_date)] if due_date_set else []))
    db.session.commit()


def _update_job(job_id, authentication, operation_type, prop, column, value):
    """Write ``value`` to one job's ``column`` with its revision bumped, and log the operation
    (``prop``: Camunda's property name); 404 when there is no such job."""
    if not is_storable(job_id):
        raise _no_job_found(job_id)
    access.check_job(authentication, job_id, access.UPDATE_JOB, lambda: _no_job_found(job_id))
    before = audit.job_before(job_id)
    c = job_table.c
    updated = db.session.execute(
        update(job_table).where(c.id == job_id).values(**{column: value}, revision=c.revision + 1)).rowcount
    if updated != 1:
        db.session.rollback()
        raise _no_job_found(job_id)
    audit.log_job_operation(operation_type, job_id, before, [(prop, column, value)])


def set_due_date(job_id, due_date, cascade=False, authentication=None):
    """``PUT /job/{id}/duedate``. ``cascade`` is accepted and has nothing to reach (no timer cycles)."""
    _update_job(job_id, authentication, audit.SET_DUE_DATE, "duedate", "due_date", due_date)
    if due_date is None or due_date <= utcnow():
        wake_executor_after_commit(db.session)  # the job may have become executable
    db.session.commit()


def recalculate_due_date(job_id, creation_date_based=True, authentication=None):
    """``POST /job/{id}/duedate/recalculate`` (spec C.4, A18): the due date of a timer job from
    its timer definition (app.core.timers), resolved against its creation time or now.

    Only ``due_date`` changes (and the revision). Camunda's 500s are 400s here (A2) with its
    messages: a job that is not a timer, a timer without a definition, a definition that does
    not resolve.
    """
    if not is_storable(job_id):
        raise _no_job_found(job_id)
    access.check_job(authentication, job_id, access.UPDATE_JOB, lambda: _no_job_found(job_id))
    c = job_table.c
    for _ in range(OPTIMISTIC_ATTEMPTS):
        row = db.session.execute(
            select(c.revision, c.type, c.handler_type, c.handler_configuration, c.create_time, c.activity_id)
            .where(c.id == job_id)).first()
        if row is None:
            db.session.rollback()
            raise _no_job_found(job_id)
        due_date = _recalculated_due_date(job_id, row, creation_date_based)
        updated = db.session.execute(
            update(job_table).where(c.id == job_id, c.revision == row.revision)
            .values(due_date=due_date, revision=c.revision + 1)).rowcount
        if updated == 1:
            if due_date <= utcnow():
                wake_executor_after_commit(db.session)  # due now: run it without waiting for a poll
            db.session.commit()
            return due_date
        db.session.rollback()  # changed in between: read it again
    raise RestException(f"Job with id {job_id} is being changed concurrently; try again.", status=409)


def _recalculated_due_date(job_id, row, creation_date_based):
    if row.type != JOB_TYPE_TIMER:
        raise InvalidRequest(f"Only timer jobs can be recalculated, but the job with id '{job_id}' is of type "
                             f"'{row.handler_type}'.")
    try:
        definition = timer_definition(row.handler_configuration)
        if definition is None:
            raise InvalidRequest(f"No timer declaration found for job id '{job_id}'. A timer job that can be "
                                 f"recalculated carries one of {', '.join(TIMER_KEYS)} in its handlerConfiguration.")
        return resolve_due_date(*definition, row.create_time if creation_date_based else utcnow())
    except TimerDefinitionError as error:
        raise InvalidRequest(
            f"Timer '{row.activity_id or job_id}' was not configured with a valid duration/time: {error}") from None


def set_priority(job_id, priority, authentication=None):
    """``PUT /job/{id}/priority``."""
    _update_job(job_id, authentication, audit.SET_PRIORITY, "priority", "priority", priority)
    db.session.commit()


def set_suspended(job_id, suspended, authentication=None):
    """``PUT /job/{id}/suspended``. Setting the state a job already has changes nothing (and so
    does not disturb a worker running it); activating wakes the executor."""
    if not is_storable(job_id):
        raise _no_job_found(job_id)
    access.check_job(authentication, job_id, access.UPDATE_JOB, lambda: _no_job_found(job_id))
    c = job_table.c
    updated = db.session.execute(
        update(job_table).where(c.id == job_id, c.suspended != suspended)
        .values(suspended=suspended, revision=c.revision + 1)
    ).rowcount
    if updated == 0 and not _job_exists(job_id):
        db.session.rollback()
        raise _no_job_found(job_id)
    audit.log_job_operation(audit.SUSPEND_JOB if suspended else audit.ACTIVATE_JOB, job_id, audit.job_before(job_id),
                            [("suspensionState", None, "suspended" if suspended else "active")])
    if updated and not suspended:
        wake_executor_after_commit(db.session)
    db.session.commit()


_SELECTOR_COLUMNS = {
    "jobDefinitionId": "job_definition_id",
    "processInstanceId": "process_instance_id",
    "processDefinitionId": "process_definition_id",
    "processDefinitionKey": "process_definition_key",
}


def set_suspended_by(request, authentication=None):
    """``PUT /job/suspended``: every job of the selector (one statement). By ``jobDefinitionId``
    only the jobs change, not the job definition's own suspension state (Camunda keeps those
    apart too; a suspended job definition keeps its jobs from being acquired whatever their
    state). Returns how many jobs changed.

    With an ``authentication``, other tenants' jobs are left alone (as if they did not exist) and
    a selected job the caller may not update refuses the whole request before anything changes
    (A16)."""
    c = job_table.c
    conditions = [c[_SELECTOR_COLUMNS[request.selector]] == request.value, c.suspended != request.suspended]
    if request.tenant_id is not None:
        conditions.append(c.tenant_id == request.tenant_id)
    elif request.without_tenant_id:
        conditions.append(c.tenant_id.is_(None))
    if access.is_restricted(authentication):
        conditions.append(access.tenant_visible(authentication, c.tenant_id))
        access.refuse_unless_all(authentication, access.UPDATE_JOB, conditions)
        # Also in the UPDATE itself: a job that appears between the check and the write is
        # changed only if the caller may change it.
        conditions += access.job_conditions(authentication, access.UPDATE_JOB)
    updated = db.session.execute(
        update(job_table).where(*conditions).values(suspended=request.suspended, revision=c.revision + 1)
    ).rowcount
    # One operation, whatever the number of jobs: the selector is the entry's id (C.9.3).
    audit.log_operation(audit.SUSPEND_JOB if request.suspended else audit.ACTIVATE_JOB, audit.JOB,
                        [("suspensionState", None, "suspended" if request.suspended else "active")],
                        **{_SELECTOR_COLUMNS[request.selector]: request.value})
    if updated and not request.suspended:
        wake_executor_after_commit(db.session)
    db.session.commit()
    return updated


# --- execute --------------------------------------------------------------------------------

def _lock_for_request(job_id, authentication):
    """Acquire this one job for the calling request, as ``acquire_jobs`` would for a worker.

    Returns ``(token, revision)``. A job held by a worker (lock not expired) is refused; an
    expired lock is taken over, exactly like the executor's acquisition does.
    """
    if not is_storable(job_id):
        raise _does_not_exist(job_id)
    access.check_job(authentication, job_id, access.UPDATE_JOB, lambda: _does_not_exist(job_id))
    c = job_table.c
    handlers = enabled_handlers()
    for _ in range(OPTIMISTIC_ATTEMPTS):
        now = utcnow()
        row = db.session.execute(select(c.handler_type, *_lock_columns(now)).where(c.id == job_id)).first()
        if row is None:
            db.session.rollback()
            raise _does_not_exist(job_id)
        if row.handler_type not in handlers:
            db.session.rollback()
            raise InvalidRequest(
                f"Job with id {job_id} has handler type '{row.handler_type}', which no handler registered "
                "in this process serves; it can only be executed by a worker that registers that type.")
        if _is_locked(row, now):
            db.session.rollback()
            raise RestException(_locked_message(job_id, row, current_app.config["OUTPUT_TIMEZONE"], "executed"),
                                status=409)
        token = lock_owner_token()
        locked = db.session.execute(
            update(job_table).where(c.id == job_id, c.revision == row.revision)
            .values(lock_owner=token,
                    lock_expiration_time=now + timedelta(seconds=current_app.config["JOB_LOCK_TIME_SECONDS"]),
                    revision=c.revision + 1)
            .returning(c.revision)
        ).first()
        db.session.commit()
        if locked is not None:
            return token, locked.revision
    raise RestException(f"Job with id {job_id} is being changed concurrently; try again.", status=409)


def execute_now(job_id, authentication=None):
    """``POST /job/{id}/execute``: run the job in this request through the executor's own path.

    Success deletes the job (and its incident). A handler failure is recorded exactly as for a
    worker (retries - 1, exception and stack trace stored, incident at 0) and then reported as
    Camunda does: 500 ``RestException`` with the handler's message.
    """
    token, revision = _lock_for_request(job_id, authentication)
    before = audit.job_before(job_id)
    failures = []
    try:
        # The Execute entry commits with the job's success, or not at all (C.9.3).
        outcome = execute_job(job_id, token, revision, failures=failures,
                              before_finish=lambda: audit.log_job_operation(audit.EXECUTE, job_id, before))
    except (OperationalError, InterfaceError):
        # Nothing was applied; give the job back instead of leaving it locked until expiry.
        db.session.rollback()
        try:
            unlock_job(job_id, token)
        except Exception:  # noqa: BLE001 - the lock expires anyway
            db.session.rollback()
            log.warning("could not unlock job %s after a database error", job_id, exc_info=True)
        raise
    if outcome == "done":
        return
    if outcome == "failed":
        error = failures[-1]
        raise RestException(str(error) or type(error).__name__, status=500)
    # "skipped": the job was changed or deleted by someone else while it ran; nothing applied.
    if failures:
        log.info("job %s failed while executed on request, but had changed meanwhile: %s", job_id, failures[-1])
    if not _job_exists(job_id):
        db.session.rollback()
        raise _does_not_exist(job_id)
    db.session.rollback()
    raise RestException(f"Job with id {job_id} was changed by someone else while it was executed; "
                        "its effects were discarded. Try again.", status=409)


# --- stack trace, delete --------------------------------------------------------------------

def get_stacktrace(job_id, authentication=None):
    """The job's stack trace; reading it is a hard check (403), as Camunda's ``checkReadJob``."""
    if not is_storable(job_id):
        raise _does_not_exist(job_id)
    access.check_job(authentication, job_id, access.READ_JOB, lambda: _does_not_exist(job_id))
    c = job_table.c
    s = stacktrace_table.c
    row = db.session.execute(
        select(c.id, s.stacktrace).select_from(job_table.outerjoin(stacktrace_table, s.job_id == c.id))
        .where(c.id == job_id)).first()
    if row is None:
        raise _does_not_exist(job_id)
    if row.stacktrace is None:
        raise NotFound(f"Job with id {job_id} has no stacktrace")
    return row.stacktrace


def delete_job(job_id, authentication=None):
    """``DELETE /job/{id}``: the job and its failedJob incident. A job a worker holds is refused
    (Camunda: "Cannot delete job when the job is being executed")."""
    if not is_storable(job_id):
        raise _does_not_exist(job_id)
    access.check_job(authentication, job_id, access.UPDATE_JOB, lambda: _does_not_exist(job_id))
    c = job_table.c
    for _ in range(OPTIMISTIC_ATTEMPTS):
        now = utcnow()
        row = db.session.execute(select(*_lock_columns(now)).where(c.id == job_id)).first()
        if row is None:
            db.session.rollback()
            raise _does_not_exist(job_id)
        if _is_locked(row, now):
            db.session.rollback()
            raise RestException(_locked_message(job_id, row, current_app.config["OUTPUT_TIMEZONE"], "deleted"),
                                status=409)
        before = audit.job_before(job_id)
        job_log.log_jobs(and_(c.id == job_id, c.revision == row.revision), DELETED, now)
        deleted = db.session.execute(
            delete(job_table).where(c.id == job_id, c.revision == row.revision)).rowcount
        if deleted == 1:
            delete_failed_job_incidents([job_id])
            audit.log_job_operation(audit.DELETE, job_id, before)
            db.session.commit()
            return
        db.session.rollback()
    raise RestException(f"Job with id {job_id} is being changed concurrently; try again.", status=409)


# --- job definition -------------------------------------------------------------------------

def set_job_definition_retries(job_definition_id, retries, due_date_set=False, due_date=None, authentication=None):
    """``PUT /job-definition/{id}/retries``: only the failed jobs (retries 0) of the definition.

    Their locks are cleared (a failed job's lock is always inconsistent), the due date is set
    when supplied, and - as asked by our issue, unlike Camunda's bulk UPDATE - their failedJob
    incidents are resolved when ``retries`` > 0. The failed jobs are locked in id order first
    (PostgreSQL), so a job that stops being failed meanwhile is not touched. An unknown
    definition is a no-op, and so is another tenant's (A16). Returns the ids updated.
    """
    if not is_storable(job_definition_id):
        return []
    if not access.job_definition_visible(authentication, job_definition_id, access.RETRY_JOB_DEFINITION):
        return []
    c = job_table.c
    statement = select(c.id).where(c.job_definition_id == job_definition_id, c.retries == 0).order_by(c.id)
    if is_postgres():
        statement = statement.with_for_update()
    ids = list(db.session.execute(statement).scalars())
    result = set_job_retries(ids, retries, due_date if due_date_set else UNSET)
    audit.log_job_definition_operation(audit.SET_JOB_RETRIES, audit.JOB, job_definition_id,
                                       [("retries", None, retries)] + ([("dueDate", None, due_date)] if due_date_set
                                                                       else []))
    db.session.commit()
    return result.updated
