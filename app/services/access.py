"""Who may read and change jobs, job definitions, incidents and batches (Camunda's C.7, C.8; A16).

Built on app.services.auth: every query gets a set-based WHERE condition (``... IN (ids)`` /
``NOT IN (ids)`` on ``process_definition_key``, ``process_instance_id``, ``tenant_id`` or the
batch id, decided once per request from the caller's authorization rows), and every command a
hard check that raises Camunda's ``AuthorizationException`` (403) naming the permissions that
would have sufficed, in Camunda's order.

``authentication`` is always an explicit argument: None means authentication is off and nothing
is checked; a member of ``camunda-admin`` passes every check.

Decisions (A16):

* A job, job definition or incident **without** a process definition key (or process instance
  id) is governed by the ``*`` authorizations of that resource: e.g. ``READ_INSTANCE`` on
  process definition ``*`` or ``READ`` on process instance ``*``. Camunda lets every user read
  and change such jobs; here they are not public.
* **Tenants**: a row of a tenant the caller does not belong to behaves as if it did not exist
  (filtered out of queries; 404 on ``GET /job/{id}`` and every single-job command, a no-op for
  ``PUT /job-definition/{id}/retries``, untouched by bulk commands); rows without a tenant are
  everyone's (subject to the permissions above).
"""

from sqlalchemy import and_, exists, false, or_, select, true

from app.core.errors import ApiError
from app.core.permissions import (
    BATCH,
    PROCESS_DEFINITION,
    PROCESS_INSTANCE,
    AuthorizationError,
    MissingAuthorization,
)
from app.extensions import db
from app.models.tables import job_definition_table, job_table
from app.services.auth import is_authorized, readable_condition

# Permission families of job commands: (permission, resource, which job column names the id),
# in the order Camunda's AuthorizationCommandChecker lists them. "pi": the process instance id,
# "key": the process definition key, None: the resource as a whole ("*").
READ_JOB = (("READ", PROCESS_INSTANCE, "pi"), ("READ_INSTANCE", PROCESS_DEFINITION, "key"))
UPDATE_JOB = (("UPDATE", PROCESS_INSTANCE, "pi"), ("UPDATE_INSTANCE", PROCESS_DEFINITION, "key"))
RETRY_JOB = (("RETRY_JOB", PROCESS_INSTANCE, "pi"), ("RETRY_JOB", PROCESS_DEFINITION, "key"),
             ("UPDATE", PROCESS_INSTANCE, "pi"), ("UPDATE_INSTANCE", PROCESS_DEFINITION, "key"))
# PUT /job-definition/{id}/retries: every instance of the definition, so process instance "*".
RETRY_JOB_DEFINITION = (("RETRY_JOB", PROCESS_INSTANCE, None), ("RETRY_JOB", PROCESS_DEFINITION, "key"),
                        ("UPDATE", PROCESS_INSTANCE, None), ("UPDATE_INSTANCE", PROCESS_DEFINITION, "key"))
CREATE_JOB = (("CREATE_INSTANCE", PROCESS_DEFINITION, "key"),)
# Changing a job definition itself (its retry time cycle, our extension): as Camunda's job
# definition commands (suspension, priority), UPDATE on its process definition.
UPDATE_JOB_DEFINITION = (("UPDATE", PROCESS_DEFINITION, "key"),)


class TenantRefused(AuthorizationError):
    """403 ``AuthorizationException`` for a tenant the caller is not in (A16): the DTO's keys,
    with no missing authorization to name."""

    def __init__(self, user_id, message):
        ApiError.__init__(self, message)
        self.user_id = user_id
        self.missing = []


def is_restricted(authentication):
    """True when this caller is checked and filtered: authentication on, and not an admin."""
    return authentication is not None and not authentication.is_admin


# --- query conditions -----------------------------------------------------------------------

def tenant_visible(authentication, column):
    """``tenant_id IS NULL OR tenant_id IN (<the caller's tenants>)`` (C.8)."""
    if not is_restricted(authentication):
        return true()
    if not authentication.tenant_ids:
        return column.is_(None)
    return or_(column.is_(None), column.in_(sorted(authentication.tenant_ids)))


def is_tenant_visible(authentication, tenant_id):
    return not is_restricted(authentication) or tenant_id is None or tenant_id in authentication.tenant_ids


def family_condition(authentication, family, columns):
    """Rows on which the caller has one of the ``family`` permissions; ``columns`` maps "pi" and
    "key" to the table's columns. A NULL id is decided by the ``*`` authorizations (A16)."""
    if not is_restricted(authentication):
        return true()
    alternatives = []
    for permission, resource, which in family:
        if which is None:
            alternatives.append(true() if is_authorized(authentication, permission, resource) else false())
        else:
            alternatives.append(readable_condition(authentication, permission, resource, columns[which],
                                                   null_means_any=True))
    return or_(*alternatives)


def _job_columns(table):
    return {"pi": table.c.process_instance_id, "key": table.c.process_definition_key}


def job_conditions(authentication, family=READ_JOB, table=job_table):
    """The jobs the caller may see (and, with another ``family``, change): tenant and permission."""
    if not is_restricted(authentication):
        return []
    return [tenant_visible(authentication, table.c.tenant_id), family_condition(authentication, family,
                                                                                _job_columns(table))]


def job_definition_conditions(authentication, table):
    """``READ`` on the process definition (its key; none: ``*``), and the tenant."""
    if not is_restricted(authentication):
        return []
    return [tenant_visible(authentication, table.c.tenant_id),
            readable_condition(authentication, "READ", PROCESS_DEFINITION, table.c.process_definition_key,
                               null_means_any=True)]


def incident_conditions(authentication, table):
    """``READ`` on the incident's process instance or ``READ_INSTANCE`` on its definition.

    Incidents have no process definition key column; a failed-job incident's ``configuration``
    is its job's id, so the key is its job's (an index lookup by primary key per row)."""
    if not is_restricted(authentication):
        return []
    j = job_table.c
    by_instance = readable_condition(authentication, "READ", PROCESS_INSTANCE, table.c.process_instance_id,
                                     null_means_any=True)
    by_definition = readable_condition(authentication, "READ_INSTANCE", PROCESS_DEFINITION,
                                       j.process_definition_key, null_means_any=True)
    definition_of_job = exists().where(j.id == table.c.configuration, by_definition).correlate(table)
    no_job = ~exists().where(j.id == table.c.configuration).correlate(table)
    star = true() if is_authorized(authentication, "READ_INSTANCE", PROCESS_DEFINITION) else false()
    return [tenant_visible(authentication, table.c.tenant_id),
            or_(by_instance, definition_of_job, and_(no_job, star))]


def job_log_conditions(authentication, table):
    """Camunda's historic job log check: ``READ_HISTORY`` on the entry's process definition (its
    key; none: ``*``, as for jobs, A16), and the tenant."""
    if not is_restricted(authentication):
        return []
    return [tenant_visible(authentication, table.c.tenant_id),
            readable_condition(authentication, "READ_HISTORY", PROCESS_DEFINITION, table.c.process_definition_key,
                               null_means_any=True)]


def batch_conditions(authentication, table, permission="READ"):
    """``READ`` (runtime) or ``READ_HISTORY`` (history) on the batch id, and the tenant."""
    if not is_restricted(authentication):
        return []
    return [tenant_visible(authentication, table.c.tenant_id),
            readable_condition(authentication, permission, BATCH, table.c.id)]


# --- hard checks ----------------------------------------------------------------------------

def _resource_id(which, pi, key):
    return {"pi": pi, "key": key, None: None}[which]


def check_family(authentication, family, pi=None, key=None):
    """Raise Camunda's AuthorizationException unless one of ``family`` is granted for the ids."""
    if not is_restricted(authentication):
        return
    wanted = [(permission, resource, _resource_id(which, pi, key)) for permission, resource, which in family]
    if any(is_authorized(authentication, permission, resource, resource_id)
           for permission, resource, resource_id in wanted):
        return
    raise AuthorizationError(authentication.user_id, [
        MissingAuthorization(permission, resource, resource_id) for permission, resource, resource_id in wanted])


def check_job(authentication, job_id, family, not_found):
    """The single-job guard: a job of another tenant is ``not_found()`` (raised, as for an
    unknown id; an unknown id is left to the command itself); else the ``family`` check."""
    if not is_restricted(authentication):
        return
    c = job_table.c
    row = db.session.execute(select(c.process_instance_id, c.process_definition_key, c.tenant_id)
                             .where(c.id == job_id)).first()
    if row is None:
        return
    if not is_tenant_visible(authentication, row.tenant_id):
        db.session.rollback()
        raise not_found()
    try:
        check_family(authentication, family, row.process_instance_id, row.process_definition_key)
    except AuthorizationError:
        db.session.rollback()
        raise


def job_definition_visible(authentication, job_definition_id, family):
    """The guard of a command on one job definition: False for an unknown definition or another
    tenant's (the command is then a no-op or a 404, as for an unknown id, A16); raises the
    AuthorizationException unless ``family`` is granted on its process definition; else True.
    Anything read is rolled back before it raises or returns False."""
    if not is_restricted(authentication):
        return True
    d = job_definition_table.c
    definition = db.session.execute(select(d.process_definition_key, d.tenant_id)
                                    .where(d.id == job_definition_id)).first()
    if definition is None or not is_tenant_visible(authentication, definition.tenant_id):
        db.session.rollback()
        return False
    try:
        check_family(authentication, family, key=definition.process_definition_key)
    except AuthorizationError:
        db.session.rollback()
        raise
    return True


def refuse_unless_all(authentication, family, conditions):
    """Bulk commands: if a job matching ``conditions`` (which already hold the tenant filter) is
    outside ``family``, raise the AuthorizationException for the first such job (by id) before
    anything is written."""
    if not is_restricted(authentication):
        return
    c = job_table.c
    allowed = family_condition(authentication, family, _job_columns(job_table))
    row = db.session.execute(select(c.process_instance_id, c.process_definition_key)
                             .where(*conditions, ~allowed).order_by(c.id).limit(1)).first()
    if row is not None:
        db.session.rollback()
        check_family(authentication, family, row.process_instance_id, row.process_definition_key)


def check_batch(authentication, permission, batch_id):
    """Single check on one batch (``UPDATE``, ``DELETE``, ``DELETE_HISTORY``): trailing-dot message."""
    if not is_restricted(authentication):
        return
    if not is_authorized(authentication, permission, BATCH, batch_id):
        db.session.rollback()
        raise AuthorizationError(authentication.user_id, [MissingAuthorization(permission, BATCH, batch_id)])


def check_create_jobs(authentication, items):
    """``POST /api/jobs`` (A16): ``CREATE_INSTANCE`` on each job's process definition (its key;
    none: ``*``), and every job's tenant one of the caller's."""
    if not is_restricted(authentication):
        return
    for item in items:
        tenant_id = item.get("tenant_id")
        if not is_tenant_visible(authentication, tenant_id):
            raise TenantRefused(authentication.user_id, f"The user with id '{authentication.user_id}' is not a "
                                f"member of tenant '{tenant_id}' and cannot create jobs for it.")
    for key in dict.fromkeys(item.get("process_definition_key") for item in items):
        check_family(authentication, CREATE_JOB, key=key)


def user_id_of(authentication):
    """The id recorded as ``createUserId``: the caller's, None without authentication."""
    return authentication.user_id if authentication is not None else None
