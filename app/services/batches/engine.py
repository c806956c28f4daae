"""The batch engine, the same for every batch type (spec B.5, with A8-A11).

What differs between types (request checks, selection, configuration, how a slice is applied)
is declared by an app.services.batches.types.BatchType; everything else is here.

Creation (:func:`create_batch`, one transaction, in the request): the type's cheap checks run
first, before anything is written. Then the selection is resolved in the database by one
``INSERT ... SELECT`` into ``batch_slice`` (the union of explicit ids and the query,
deduplicated, numbered and cut into slices, one row of ids per slice), and the batch row (with the type's
configuration, stored once), its history row, its three job definitions and its seed job are
written. Nothing of the selection passes through Python.

Seed, execution and monitor work are ordinary jobs run by the executor (their handlers are in
app.services.batches.handlers) and apply their effects in the executor's finishing transaction,
so a job run twice applies them once. An execution job carries only its batch id and slice
number and reads the configuration from the batch row. A batch completes when no execution job
is left: checked after an execution job's commit when it may have been the last one (A9), and
every ``batchPollTime`` by the monitor.

Authorization (A16): the creator (``authentication``) needs ``CREATE`` or the type's own create
permission on Batch; its selection is narrowed by the type's ``authorize``; its user id becomes
``createUserId``. The execution jobs run without a user, but a restricted creator's batch
(``creator`` in its configuration) applies each slice only to the jobs that creator may change
at that moment (the type's ``element_conditions``, tenants included); every other element is
skipped and counted as missing. Suspending needs ``UPDATE``, deleting ``DELETE`` and deleting
history ``DELETE_HISTORY`` on the batch.
"""

import json
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.core.dates import utcnow
from app.core.errors import InvalidRequest
from app.core.names import HANDLER_BATCH_MONITOR, HANDLER_BATCH_SEED
from app.core.permissions import BATCH
from app.core.text import is_storable
from app.extensions import db
from app.models import new_id
from app.models.tables import batch_slice_table, batch_table, historic_batch_table, job_definition_table, job_table
from app.services import access, audit, job_log
from app.services.auth import load_authentication
from app.services.batches.types import SlicePosition, SliceResult, get_batch_type
from app.services.dispatch import wake_executor_after_commit
from app.services.incidents import delete_failed_job_incidents
from app.services.jobs.retries import StoredIds
from app.services.sql import in_ids, is_postgres, row_address


def invocations_per_batch_job(batch_type):
    config = current_app.config
    return config["INVOCATIONS_PER_BATCH_JOB_BY_TYPE"].get(batch_type, config["INVOCATIONS_PER_BATCH_JOB"])


def _explicit_ids_select(ids):
    """``SELECT id`` over the explicit ids, sent as one parameter (array / JSON)."""
    if is_postgres():
        return select(func.unnest(bindparam("explicit_ids", value=list(ids), type_=ARRAY(String))).label("id"))
    json_each = func.json_each(bindparam("explicit_ids", value=json.dumps(list(ids)))).table_valued("value")
    return select(json_each.c.value.label("id"))


def _job_id_list(column):
    """The aggregate that collects a slice's job ids into its ``job_ids`` column."""
    return func.array_agg(column) if is_postgres() else func.json_group_array(column)


# work_mem of the statement that writes a batch's slices: 700,000 ids grouped in memory.
SLICE_GROUPING_WORK_MEM = "64MB"


def _with_row_addresses(query):
    """``query`` (a ``SELECT id`` of jobs) with each row's ``ctid`` as ``tid`` on PostgreSQL when
    its rows are plainly the job table's; else ``query`` as it is."""
    if not is_postgres() or query.get_final_froms() != [job_table]:
        return query
    return query.add_columns(row_address(job_table).label("tid"))


def _insert_slices(batch_id, selection, invocations):
    """Write the deduplicated selection as one ``batch_slice`` row per ``invocations`` jobs (the
    slice's ids as one array); returns the element count.

    Without explicit ids the query's own rows are numbered in scan order, which on
    PostgreSQL keeps the jobs of one slice close together on disk (fewer pages per slice), and
    each row's address is kept beside its id (``job_tids``): the execution job reaches the row
    without probing the primary key.
    """
    if not selection.ids:
        chosen = _with_row_addresses(selection.query).subquery("selection")
        number = func.row_number().over()
    elif selection.query is None:
        chosen = _explicit_ids_select(selection.ids).subquery("selection")
        number = func.row_number().over(order_by=chosen.c.id)
    else:
        # UNION removes the overlap between the explicit ids and the query's result.
        chosen = selection.query.union(_explicit_ids_select(selection.ids)).subquery("selection")
        number = func.row_number().over(order_by=chosen.c.id)
    if is_postgres():
        # The slices are grouped in a hash table of every selected id (about 90 bytes each):
        # at the default 4 MB it spilled to disk from 50,000 jobs on (1M jobs: 5 batches, 21 MB
        # written and read back). For this transaction only, which ends with the creation.
        db.session.execute(text(f"SET LOCAL work_mem = '{SLICE_GROUPING_WORK_MEM}'"))
    # "//": integer division on every database ("/" is true division in SQLAlchemy 2).
    slice_number = ((number - 1) // literal(invocations, Integer)).label("slice")
    numbered = select(*chosen.c, slice_number).subquery("numbered")  # id (and tid)
    columns = [literal(batch_id, String).label("batch_id"), numbered.c.slice,
               func.count().label("size"), _job_id_list(numbered.c.id).label("job_ids")]
    if "tid" in numbered.c:
        # array_agg keeps the order of its input: job_tids[i] is where job_ids[i] stands.
        columns.append(func.array_agg(numbered.c.tid).label("job_tids"))
    slices = select(*columns).group_by(numbered.c.slice)
    db.session.execute(insert(batch_slice_table).from_select([column.name for column in columns], slices))
    return db.session.execute(select(func.coalesce(func.sum(batch_slice_table.c.size), 0))
                              .where(batch_slice_table.c.batch_id == batch_id)).scalar_one()


CREATOR = "creator"  # in the configuration: the restricted user whose rights bound the execution jobs


def _check_create(batch_type, authentication):
    family = ((batch_type.create_permission, BATCH, None),) if batch_type.create_permission else ()
    access.check_family(authentication, (*family, ("CREATE", BATCH, None)))


def create_batch(type_name, request, authentication=None, before_write=None):
    """Create a batch of the registered type ``type_name`` for a loaded ``request``, in one
    transaction, and commit; returns the batch row (a mapping).

    The permission and the type's checks raise before anything is written; an empty selection
    raises the type's ``empty_selection_message`` and leaves nothing behind either.
    ``before_write(batch_id)``, if given, runs in the same transaction before the first write of
    the batch (the idempotency key's row, app.services.batches.idempotency); whatever it raises
    rolls everything back.
    """
    batch_type = get_batch_type(type_name)
    _check_create(batch_type, authentication)
    selection = batch_type.authorize(request, batch_type.selection(request), authentication)
    if selection.query is None and not selection.ids:
        raise InvalidRequest(batch_type.empty_selection_message)
    stored_type = batch_type.stored_type
    invocations = invocations_per_batch_job(stored_type)
    per_seed = current_app.config["BATCH_JOBS_PER_SEED"]
    now = utcnow()
    batch_id = new_id()
    try:
        # Cheap checks (a probe at most) before the selection is written.
        batch_type.validate(request, selection)
        if before_write is not None:
            before_write(batch_id)
        configuration = batch_type.configuration(request)
        if access.is_restricted(authentication):
            configuration = {**configuration, CREATOR: authentication.user_id}
        elements = _insert_slices(batch_id, selection, invocations)
        if elements == 0:
            raise InvalidRequest(batch_type.empty_selection_message)
        seed_definition, monitor_definition, execution_definition = new_id(), new_id(), new_id()
        db.session.execute(insert(job_definition_table), [
            dict(id=definition_id, job_type=job_type, job_configuration=batch_id, suspended=False)
            for definition_id, job_type in ((seed_definition, HANDLER_BATCH_SEED),
                                            (monitor_definition, HANDLER_BATCH_MONITOR),
                                            (execution_definition, stored_type))
        ])
        # The columns the runtime batch and its history share.
        shared = dict(
            id=batch_id, type=stored_type, total_jobs=math.ceil(elements / invocations),
            batch_jobs_per_seed=per_seed, invocations_per_batch_job=invocations,
            seed_job_definition_id=seed_definition, monitor_job_definition_id=monitor_definition,
            batch_job_definition_id=execution_definition, tenant_id=None,
            create_user_id=access.user_id_of(authentication),
            start_time=now, execution_start_time=None, element_count=elements, skipped_elements=0,
        )
        db.session.execute(insert(batch_table).values(
            **shared, revision=1, jobs_created=0, suspended=False, configuration=configuration))
        db.session.execute(insert(historic_batch_table).values(**shared, end_time=None, removal_time=None))
        _insert_batch_job(batch_id, seed_definition, HANDLER_BATCH_SEED, {"batchId": batch_id}, suspended=False)
        if batch_type.log_creation is not None:
            batch_type.log_creation(request, elements)
        wake_executor_after_commit(db.session)
        # Read back before the commit: a small batch can be done, and its runtime row gone,
        # before this request could read it after the commit.
        batch = get_batch_row(batch_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return batch


def _insert_batch_job(batch_id, definition_id, handler_type, configuration, suspended, due_date=None):
    config = current_app.config
    job_id, now = new_id(), utcnow()
    db.session.execute(insert(job_table).values(
        id=job_id, revision=1, type="message", handler_type=handler_type,
        handler_configuration=configuration, job_definition_id=definition_id, due_date=due_date,
        retries=config["DEFAULT_JOB_RETRIES"], suspended=suspended, priority=config["BATCH_JOB_PRIORITY"],
        create_time=now, batch_id=batch_id))
    job_log.log_created([job_id], now)


def get_batch_row(batch_id, for_update=False):
    """The runtime batch row, or None (also for an id the database cannot store: no batch has it)."""
    if not is_storable(batch_id):
        return None
    statement = select(batch_table).where(batch_table.c.id == batch_id)
    if for_update:
        statement = statement.with_for_update()
    return db.session.execute(statement).mappings().first()


# --- seed, execution, monitor (called by the handlers in the finishing transaction) ------

def run_seed(batch_id):
    """Create the next ``batchJobsPerSeed`` execution jobs, then the next seed or the monitor."""
    batch = get_batch_row(batch_id, for_update=True)
    if batch is None:
        raise LookupError(f"Batch with id '{batch_id}' cannot be found: batch is null")
    first = batch["jobs_created"]
    last = min(first + batch["batch_jobs_per_seed"], batch["total_jobs"])
    config = current_app.config
    now = utcnow()
    if last > first:
        # An execution job names its slice; what to apply is read from the batch row when it runs.
        ids = [new_id() for _ in range(first, last)]
        db.session.execute(insert(job_table), [
            dict(id=job_id, revision=1, type="message", handler_type=batch["type"],
                 handler_configuration={"batchId": batch_id, "slice": slice_number},
                 job_definition_id=batch["batch_job_definition_id"], due_date=None,
                 retries=config["DEFAULT_JOB_RETRIES"], suspended=batch["suspended"],
                 priority=config["BATCH_JOB_PRIORITY"], create_time=now, batch_id=batch_id)
            for job_id, slice_number in zip(ids, range(first, last))
        ])
        job_log.log_created(ids, now)
    db.session.execute(update(batch_table).where(batch_table.c.id == batch_id)
                       .values(jobs_created=last, revision=batch_table.c.revision + 1))
    if last < batch["total_jobs"]:
        _insert_batch_job(batch_id, batch["seed_job_definition_id"], HANDLER_BATCH_SEED,
                          {"batchId": batch_id}, batch["suspended"])
    else:
        _insert_batch_job(batch_id, batch["monitor_job_definition_id"], HANDLER_BATCH_MONITOR,
                          {"batchId": batch_id}, batch["suspended"])
    wake_executor_after_commit(db.session)
    return last - first


def _mark_execution_started(batch_id, now):
    """Set ``executionStartTime`` once (B.5.4).

    On PostgreSQL in a transaction of its own: inside the slice's transaction the batch row's
    lock would be held for the whole slice, and the first wave of slices running in parallel
    would queue behind it. SQLite (one writer, deferred transactions) does it in place.
    """
    statements = [update(table).where(table.c.id == batch_id, table.c.execution_start_time.is_(None))
                  .values(execution_start_time=now) for table in (batch_table, historic_batch_table)]
    if is_postgres():
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)
    else:
        for statement in statements:
            db.session.execute(statement)


# The statements every execution job runs, built once: building and hashing new statement
# objects for each of a 1M-job batch's 400 slices cost its workers more CPU than the database's
# work outside the rows themselves. Their parameters, ``slice_batch_id`` and ``slice_number``,
# are named after no job column: an UPDATE takes a parameter named after one of its columns as
# one more value to set (the stored-ids revival passes them on to its UPDATE).
_THIS_SLICE = (batch_slice_table.c.batch_id == bindparam("slice_batch_id"),
               batch_slice_table.c.slice == bindparam("slice_number"))
_SLICE_BATCH = select(
    batch_table.c.type, batch_table.c.configuration, batch_table.c.execution_start_time,
    batch_table.c.invocations_per_batch_job, batch_table.c.element_count,
    select(batch_slice_table.c.size).where(*_THIS_SLICE).scalar_subquery().label("slice_size"),
).where(batch_table.c.id == bindparam("slice_batch_id"))
_SLICE_IDS = select(batch_slice_table.c.job_ids).where(*_THIS_SLICE)
_STORED_SLICE = select(batch_slice_table.c.job_ids.label("ids"), batch_slice_table.c.job_tids.label("tids")).where(
    *_THIS_SLICE)


def run_execution_slice(batch_id, slice_number):
    """Apply the batch's type to one slice; missing jobs are skipped and counted (A10).

    Returns the type's SliceResult (empty when the type applied the slice on its stored ids, in
    the database); a slice whose batch was deleted meanwhile does nothing.
    """
    this_slice = {"slice_batch_id": batch_id, "slice_number": slice_number}
    batch = db.session.execute(_SLICE_BATCH, this_slice).first()
    if batch is None:
        return SliceResult()
    if batch.execution_start_time is None:
        _mark_execution_started(batch_id, utcnow())
    batch_type = get_batch_type(batch.type)
    # The batch id travels with the configuration (a set-retries slice marks the jobs it revives, A19).
    configuration = {**batch.configuration, "batchId": batch_id}
    if batch_type.apply_stored_slice is not None and is_postgres() and CREATOR not in configuration:
        updated = batch_type.apply_stored_slice(StoredIds(_STORED_SLICE, this_slice), configuration)
        if updated is not None:
            _count_skipped(batch_id, (batch.slice_size or 0) - updated)
            return SliceResult()  # the ids stayed in the database
    ids = db.session.execute(_SLICE_IDS, this_slice).scalar() or []
    if batch_type.slice_position:
        ids = sorted(ids)
    ids, outside = _within_creator_rights(batch_type, ids, batch.configuration)
    if batch_type.slice_position:
        position = SlicePosition(offset=slice_number * batch.invocations_per_batch_job, total=batch.element_count)
        result = batch_type.apply_slice(ids, configuration, position)
    else:
        result = batch_type.apply_slice(ids, configuration)
    result.missing = outside + list(result.missing)
    _count_skipped(batch_id, len(result.missing))
    # The slice's row stays until the batch ends (one DELETE then): deleting it here would cost
    # every slice a second write, and a slice runs once anyway (its job's lock).
    return result


def _count_skipped(batch_id, skipped):
    if skipped:
        for table in (batch_table, historic_batch_table):
            db.session.execute(update(table).where(table.c.id == batch_id)
                               .values(skipped_elements=table.c.skipped_elements + skipped))


def _within_creator_rights(batch_type, ids, configuration):
    """``(ids to apply, ids skipped)`` for a restricted creator's batch: only the jobs the creator
    may change now (its current groups, tenants and authorizations); the others count as missing
    (A16), so a batch never changes what its creator could not, not even a job created after
    the batch under an id it named."""
    creator = (configuration or {}).get(CREATOR)
    if creator is None or not ids or batch_type.element_conditions is None:
        return ids, []
    authentication = load_authentication(creator)
    if not access.is_restricted(authentication):
        return ids, []
    c = job_table.c
    allowed = set(db.session.execute(select(c.id).where(
        in_ids(c.id, ids), *batch_type.element_conditions(authentication))).scalars())
    return [i for i in ids if i in allowed], [i for i in ids if i not in allowed]


def complete_if_done(batch_id, running_job_id=None):
    """Finish the batch if every execution job is gone (B.5.5); returns True when it did.

    The batch row lock serialises the monitor and the last execution jobs, so a batch is
    finished once. A monitor job being executed right now is left for the executor to delete.
    """
    batch = get_batch_row(batch_id, for_update=True)
    if batch is None:
        return False
    if batch["jobs_created"] < batch["total_jobs"]:
        return False
    remaining = db.session.execute(
        select(func.count()).select_from(job_table)
        .where(job_table.c.job_definition_id == batch["batch_job_definition_id"])).scalar_one()
    if remaining:
        return False
    _remove_runtime_batch(batch, delete_execution_jobs=False, keep_job_id=running_job_id)
    return True


def _definition_ids(batch):
    return [batch["seed_job_definition_id"], batch["monitor_job_definition_id"], batch["batch_job_definition_id"]]


def _remove_runtime_batch(batch, delete_execution_jobs, keep_job_id=None):
    """Delete the batch's jobs (all, or all but execution jobs), definitions, elements and row;
    the historic batch gets its end time."""
    definitions = _definition_ids(batch)
    definitions_to_clear = definitions if delete_execution_jobs else definitions[:2]
    c = job_table.c
    # Skip rows locked by a job being executed right now (its own finishing transaction);
    # that job finds its batch gone and ends quietly.
    doomed = (select(c.id).where(c.job_definition_id.in_(definitions_to_clear))
              .with_for_update(skip_locked=True).scalar_subquery())
    doomed_ids = db.session.execute(select(c.id).where(c.id.in_(doomed))).scalars().all()
    # The monitor job completing the batch is deleted by the executor, as every finished job.
    doomed_ids = [job_id for job_id in doomed_ids if job_id != keep_job_id]
    if doomed_ids:
        job_log.log_deleted(doomed_ids, utcnow())
        delete_failed_job_incidents(doomed_ids)
        db.session.execute(delete(job_table).where(c.id.in_(doomed_ids)))
    db.session.execute(delete(job_definition_table).where(job_definition_table.c.id.in_(definitions)))
    db.session.execute(delete(batch_slice_table).where(batch_slice_table.c.batch_id == batch["id"]))
    db.session.execute(delete(batch_table).where(batch_table.c.id == batch["id"]))
    db.session.execute(update(historic_batch_table)
                       .where(historic_batch_table.c.id == batch["id"], historic_batch_table.c.end_time.is_(None))
                       .values(end_time=utcnow()))


def run_monitor(batch_id, running_job_id):
    """Complete the batch, or check again in ``batchPollTime`` seconds."""
    if complete_if_done(batch_id, running_job_id):
        return True
    batch = get_batch_row(batch_id)
    if batch is None:
        return True
    poll = current_app.config["BATCH_POLL_TIME_SECONDS"]
    _insert_batch_job(batch_id, batch["monitor_job_definition_id"], HANDLER_BATCH_MONITOR,
                      {"batchId": batch_id}, batch["suspended"], due_date=utcnow() + timedelta(seconds=poll))
    return False


_MAY_BE_COMPLETE = select(batch_table.c.id).where(
    batch_table.c.id == bindparam("batch_id"), batch_table.c.jobs_created == batch_table.c.total_jobs,
    ~exists().where(job_table.c.job_definition_id == batch_table.c.batch_job_definition_id))


def may_be_complete(batch_id, connection=None):
    """True when the seed is done and no execution job of the batch is left.

    One statement, no lock: the batch row by its key and an ``EXISTS`` on the execution jobs'
    job definition (an index lookup that stops at the first row). Run after an execution job's
    commit, so of two slices finishing together at least the later one sees the other gone.
    On ``connection`` (autocommit) when given, else in the session.
    """
    return (connection or db.session).execute(_MAY_BE_COMPLETE, {"batch_id": batch_id}).first() is not None


def complete_after_slice(batch_id, connection=None):
    """The event-driven completion (A9), run after an execution job's commit.

    Only a slice that may have been the last one takes the batch row lock and completes the
    batch; every other slice ends with the cheap check, on the executor's autocommit
    ``connection`` when there is one (a single round trip). The monitor stays the fallback.
    """
    try:
        if not may_be_complete(batch_id, connection):
            if connection is None:
                db.session.rollback()  # end the read-only transaction
            return False
        done = complete_if_done(batch_id)
        db.session.commit()
        return done
    except Exception:
        db.session.rollback()
        current_app.logger.warning("event-driven completion of batch %s failed; the monitor will retry",
                                   batch_id, exc_info=True)
        return False


# --- operator actions: suspend, activate, delete -------------------------------------------

def set_batch_suspended(batch_id, suspended, authentication=None):
    """Suspend/activate the batch with its seed, monitor and execution jobs and definitions.

    Jobs the seed or monitor create later inherit the state from the batch row (B.5.7).
    Returns False when the batch does not exist (or belongs to another tenant); 403 without
    ``UPDATE`` on it.
    """
    batch = get_batch_row(batch_id, for_update=True)
    if batch is None or not access.is_tenant_visible(authentication, batch["tenant_id"]):
        db.session.rollback()
        return False
    access.check_batch(authentication, "UPDATE", batch_id)
    definitions = _definition_ids(batch)
    db.session.execute(update(job_definition_table).where(job_definition_table.c.id.in_(definitions))
                       .values(suspended=suspended))
    db.session.execute(update(job_table).where(job_table.c.job_definition_id.in_(definitions))
                       .values(suspended=suspended, revision=job_table.c.revision + 1))
    db.session.execute(update(batch_table).where(batch_table.c.id == batch_id)
                       .values(suspended=suspended, revision=batch_table.c.revision + 1))
    audit.log_operation(audit.SUSPEND_BATCH if suspended else audit.ACTIVATE_BATCH, audit.BATCH,
                        [("suspensionState", None, "suspended" if suspended else "active")], batch_id=batch_id)
    if not suspended:
        wake_executor_after_commit(db.session)
    db.session.commit()
    return True


def delete_batch(batch_id, cascade=False, authentication=None):
    """Delete the runtime batch with all its jobs; ``cascade`` removes the history too.
    False when there is no such batch (or it belongs to another tenant); 403 without ``DELETE``."""
    batch = get_batch_row(batch_id, for_update=True)
    if batch is None or not access.is_tenant_visible(authentication, batch["tenant_id"]):
        db.session.rollback()
        return False
    access.check_batch(authentication, "DELETE", batch_id)
    _remove_runtime_batch(batch, delete_execution_jobs=True)
    if cascade:
        db.session.execute(delete(historic_batch_table).where(historic_batch_table.c.id == batch_id))
        job_log.delete_batch_logs(batch_id)
    audit.log_operation(audit.DELETE, audit.BATCH, [("cascadeToHistory", None, bool(cascade))], batch_id=batch_id)
    db.session.commit()
    return True


def delete_historic_batch(batch_id, authentication=None):
    """Returns False when there is no such historic batch (or it belongs to another tenant);
    403 without ``DELETE_HISTORY`` on it."""
    if not is_storable(batch_id):
        return False
    h = historic_batch_table.c
    if access.is_restricted(authentication):
        row = db.session.execute(select(h.tenant_id).where(h.id == batch_id)).first()
        if row is None or not access.is_tenant_visible(authentication, row.tenant_id):
            db.session.rollback()
            return False
        access.check_batch(authentication, "DELETE_HISTORY", batch_id)
    deleted = db.session.execute(delete(historic_batch_table).where(historic_batch_table.c.id == batch_id)).rowcount
    if deleted:
        job_log.delete_batch_logs(batch_id)
        audit.log_operation(audit.DELETE_HISTORY, audit.BATCH, batch_id=batch_id)
    db.session.commit()
    return deleted == 1
