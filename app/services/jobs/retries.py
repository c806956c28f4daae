"""Setting retries on a set of jobs (spec B.5.12), set-based.

One function serves ``PUT /job/{id}/retries`` (a set of one), ``PUT /job-definition/{id}/retries``
and every slice of a set-job-retries batch (up to ``invocationsPerBatchJob`` ids). A slice is
one ``UPDATE ... WHERE id = ANY(:ids)`` with the ids as one array parameter: retries, the due
date when one was supplied, inconsistent locks cleared, revision bumped. None of the columns it
writes is in an index, so on PostgreSQL the update stays HOT.

Incidents follow from the invariant "a job has a failedJob incident exactly while it has 0
retries": setting retries > 0 deletes the slice's incidents (resolution 0 -> n), setting 0
creates them for the jobs that have none (creation n -> 0). Neither needs the old values, so
the rows are written once and not locked in a separate pass first.
"""

import functools
from dataclasses import dataclass, field

from sqlalchemy import (
    String,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    union_all,
    update,
)

from app.core.names import INCIDENT_TYPE_FAILED_JOB
from app.extensions import db
from app.models.tables import incident_table, job_table
from app.services.dispatch import wake_executor_after_commit
from app.services.incidents import create_failed_job_incidents, delete_failed_job_incidents
from app.services.sql import in_ids, row_address

UNSET = object()  # "dueDate absent": leave due dates alone (None means: set them to null)
DUE_DATE_CASE_CHUNK = 500  # ids per UPDATE when each job gets its own due date


@dataclass
class RetriesResult:
    updated: list = field(default_factory=list)
    missing: list = field(default_factory=list)


def _retries_values(retries, due_date, revived_by):
    """The SET clause of B.5.12 for ``retries`` (and ``due_date`` unless UNSET; a dict: per id);
    ``revived_by`` is written as given (the callers clear it for retries 0)."""
    c = job_table.c
    # Camunda's inconsistent lock (JobEntity): an owner without expiry, or a failed job still
    # locked. SET expressions see the row's values before the update.
    inconsistent = and_(c.lock_owner.isnot(None), or_(c.lock_expiration_time.is_(None), c.retries == 0))
    values = {
        "retries": retries,
        "lock_owner": case((inconsistent, None), else_=c.lock_owner),
        "lock_expiration_time": case((inconsistent, None), else_=c.lock_expiration_time),
        "revision": c.revision + 1,
        "revived_by_batch_id": revived_by,
    }
    if isinstance(due_date, dict):
        values["due_date"] = case(due_date, value=c.id, else_=c.due_date) if due_date else c.due_date
    elif due_date is not UNSET:
        values["due_date"] = due_date
    return values


@dataclass(frozen=True)
class StoredIds:
    """The ids a statement reads from the database: ``source``, a ``SELECT`` built once of one
    row with the ids as an array (``ids``) and where those jobs stood (``tids``, an array of
    ``ctid`` in the same order, or NULL), and the ``parameters`` that pick the row (a batch
    slice's key)."""

    source: object
    parameters: dict


@functools.lru_cache(maxsize=16)
def _revive_statement(source, with_due_date):
    """The statement of :func:`revive_stored_ids`, built once per stored-ids source, its values
    bound parameters (``new_retries``, ``revived_by``, ``new_due_date``): it runs once per batch
    slice, and building and hashing a new statement each time cost the worker more CPU than the
    rest of the slice. No parameter of it may be named after a job column: an UPDATE takes such
    a parameter as one more column to set.

    The jobs are reached where they stood when the ids were stored (``tids``): a TID scan per
    job that checks the job's id, instead of a probe of the primary key (at 1M jobs a third of
    the statement). A job that has moved since (every update writes a new row version at a new
    address; VACUUM FULL rewrites the table) or has no stored address is updated by id in the
    same statement.
    """
    c, i = job_table.c, incident_table.c
    due_date = bindparam("new_due_date", type_=job_table.c.due_date.type) if with_due_date else UNSET
    values = _retries_values(bindparam("new_retries"), due_date, bindparam("revived_by", type_=String))
    stored = source.cte("stored")
    # Two set-returning functions in one select list run in step: (tids[i], ids[i]); with no
    # tids, (NULL, ids[i]).
    located = select(func.unnest(stored.c.tids).label("tid"), func.unnest(stored.c.ids).label("id")).cte("located")
    in_place = (update(job_table).where(row_address(job_table) == located.c.tid,
                                        c.id == located.c.id)
                .values(**values).returning(c.id).cte("revived_in_place"))
    # Both UPDATEs see the rows as they were before the statement: the second takes only the ids
    # the first did not find, so no job is updated twice.
    moved_ids = select(located.c.id).where(located.c.id.not_in(select(in_place.c.id)))
    moved = (update(job_table).where(c.id == any_(func.array(moved_ids.scalar_subquery())))
             .values(**values).returning(c.id).cte("revived_by_id"))
    revived = union_all(select(in_place.c.id), select(moved.c.id))
    # The resolved incidents: an index probe per revived job (an array the planner cannot
    # mistake for a large one, see delete_failed_job_incidents).
    resolved = (delete(incident_table).where(
        i.configuration == any_(func.array(revived.scalar_subquery())),
        i.incident_type == INCIDENT_TYPE_FAILED_JOB).returning(i.id).cte("resolved"))
    count = func.count()
    return select(select(count).select_from(in_place).scalar_subquery()
                  + select(count).select_from(moved).scalar_subquery(),
                  select(count).select_from(resolved).scalar_subquery())


def revive_stored_ids(stored, retries, due_date=UNSET, revived_by=None):
    """PostgreSQL: :func:`set_job_retries` for ``retries > 0`` on the ids a :class:`StoredIds`
    names (a batch slice's ``job_ids``), in ONE statement: the update and the resolution of the
    revived jobs' ``failedJob`` incidents, with no id passing through Python. Returns how many
    jobs it updated (the others no longer exist).

    A batch slice spends its time here; sending its 1,000 ids to the database twice and reading
    them back once cost the worker as much CPU as the database spent on the rows.
    """
    if retries <= 0:
        raise ValueError("revive_stored_ids sets retries above 0; use set_job_retries")
    parameters = {**stored.parameters, "new_retries": retries, "revived_by": revived_by}
    if due_date is not UNSET:
        parameters["new_due_date"] = due_date
    statement = _revive_statement(stored.source, due_date is not UNSET)
    updated = db.session.execute(statement, parameters).first()[0]
    if updated:
        wake_executor_after_commit(db.session)
    return updated


def set_job_retries(ids, retries, due_date=UNSET, revived_by=None):
    """Apply ``retries`` (and ``due_date`` unless UNSET) to the jobs ``ids`` that exist.

    ``revived_by``: the set-retries batch applying it; the jobs carry its id (retries > 0) so
    that their later successes and failures count in the batch's outcome (spec A19). Any other
    change of retries clears it: the outcome is that of the last revival.

    Runs in the caller's transaction; the caller commits. Returns which ids were updated and
    which did not exist. Waking the executor is scheduled for after the commit. ``due_date`` may
    also be a dict of job id -> due date (a spread, A20): still one statement.
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return RetriesResult()
    if isinstance(due_date, dict) and len(ids) > DUE_DATE_CASE_CHUNK:
        # A spread's CASE carries two parameters per id: chunks keep each statement small.
        result = RetriesResult()
        for start in range(0, len(ids), DUE_DATE_CASE_CHUNK):
            chunk = ids[start:start + DUE_DATE_CASE_CHUNK]
            part = set_job_retries(chunk, retries, {job_id: due_date[job_id] for job_id in chunk}, revived_by)
            result.updated += part.updated
            result.missing += part.missing
        return result
    c = job_table.c
    values = _retries_values(retries, due_date, revived_by if retries > 0 else None)
    updated = db.session.execute(
        update(job_table).where(in_ids(c.id, ids)).values(**values).returning(c.id)
    ).scalars().all()
    if retries > 0:
        delete_failed_job_incidents(updated)
        if updated:
            wake_executor_after_commit(db.session)
    else:
        create_failed_job_incidents(updated, None)
    found = set(updated)
    return RetriesResult(updated=updated, missing=[job_id for job_id in ids if job_id not in found])
