"""The user operation log (C.9): what an authenticated operator changed, and its query.

:func:`log_operation` is the one call an operation makes, inside its own transaction, before
its commit: the entries commit with the change or not at all, so a refused or failed operation
leaves none. The acting user is the request's authenticated user (``g.authentication``, set by
app.api.auth), as Camunda takes it from the thread's authentication; without one (authentication
off, a Celery task, the CLI) nothing is written, as in Camunda (spec A17). One call is one
operation: one ``operationId`` and one row per changed property (one row with no property when
nothing is listed), so a set-based command writes per operation, never per job.

Reading needs, per entry, READ on OPERATION_LOG_CATEGORY for its category or READ_HISTORY on
PROCESS_DEFINITION for its process definition key (Camunda's two ways); deleting and annotating
likewise with DELETE / UPDATE and DELETE_HISTORY / UPDATE_HISTORY (spec A17).
"""

import secrets
import threading
import time
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import and_, delete, false, insert, or_, select, update

from app.core.dates import utcnow
from app.core.errors import BadUserRequest
from app.core.permissions import (
    OPERATION_LOG_CATEGORY,
    PROCESS_DEFINITION,
    RESOURCES_BY_TYPE,
    AuthorizationError,
    MissingAuthorization,
    permission_names,
)
from app.core.text import is_storable
from app.extensions import db
from app.models.job import new_id
from app.models.tables import job_definition_table, job_table, operation_log_table
from app.services.auth import is_authorized, readable_condition
from app.services.sql import RowQuery

# Categories (UserOperationLogEntry.CATEGORY_*)
OPERATOR = "Operator"
ADMIN = "Admin"

# Entity types (EntityTypes)
JOB = "Job"
JOB_DEFINITION = "JobDefinition"
BATCH = "Batch"
USER = "User"
GROUP = "Group"
TENANT = "Tenant"
GROUP_MEMBERSHIP = "Group membership"
TENANT_MEMBERSHIP = "TenantMembership"
AUTHORIZATION = "Authorization"
OPERATION_LOG = "OperationLog"

# Operation types (UserOperationLogEntry.OPERATION_TYPE_*)
SET_JOB_RETRIES = "SetJobRetries"
SUSPEND_JOB = "SuspendJob"
ACTIVATE_JOB = "ActivateJob"
SET_DUE_DATE = "SetDueDate"
SET_PRIORITY = "SetPriority"
DELETE = "Delete"
EXECUTE = "Execute"
SUSPEND_BATCH = "SuspendBatch"
ACTIVATE_BATCH = "ActivateBatch"
DELETE_HISTORY = "DeleteHistory"
CREATE = "Create"
UPDATE = "Update"
UNLOCK = "Unlock"
SET_ANNOTATION = "SetAnnotation"
CLEAR_ANNOTATION = "ClearAnnotation"

# The job columns Camunda copies into a job's entries (inContextOf(JobEntity)).
JOB_CONTEXT = ("job_definition_id", "process_instance_id", "process_definition_id", "process_definition_key",
               "deployment_id", "tenant_id")

COLUMNS = ("id", "deployment_id", "process_definition_id", "process_definition_key", "process_instance_id",
           "job_id", "job_definition_id", "batch_id", "user_id", "timestamp", "operation_id", "operation_type",
           "entity_type", "property", "org_value", "new_value", "category", "annotation")

_EQUALS = {name: name for name in ("deployment_id", "process_definition_id", "process_definition_key",
                                   "process_instance_id", "job_id", "job_definition_id", "batch_id", "user_id",
                                   "operation_id", "operation_type", "entity_type", "category", "property")}


def acting_user_id():
    """The authenticated user of the current request, or None (no entry is written then)."""
    authentication = g.get("authentication") if has_request_context() else None
    return authentication.user_id if authentication is not None else None


def value_string(value):
    """Camunda's PropertyChange.valueAsString: dates as epoch milliseconds, else ``str`` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(int((value - datetime(1970, 1, 1)).total_seconds() * 1000))
    return str(value)


_last_micros = 0
_last_micros_lock = threading.Lock()


def _time_ordered_ids(count):
    """Ids that sort in the order they were written, so that Camunda's default order (by id)
    is the log's order: microseconds since the epoch, strictly increasing within a process (two
    requests of one process in the same millisecond, or a clock stepped back, still sort as
    written), then a random part that keeps processes apart; the rows of one operation keep
    theirs. Sixteen digits sort after the thirteen-digit milliseconds of older ids."""
    global _last_micros
    with _last_micros_lock:
        _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
        micros = _last_micros
    tail = secrets.token_hex(8)
    return [f"{micros:016d}-{tail}-{index:04d}" for index in range(count)]


def log_operation(operation_type, entity_type, changes=(), category=OPERATOR, **ids):
    """Write one operation's entries into the current transaction (the caller commits).

    ``changes``: ``(property, original value, new value)`` triples, one row each; ``ids``: the
    entries' id columns (``job_id=...``, ``batch_id=...``, a job's :data:`JOB_CONTEXT`).
    Returns the operation id, or None when there is no authenticated user.
    """
    user_id = acting_user_id()
    if user_id is None:
        return None
    now = utcnow()
    operation_id = new_id()
    rows = [(None, None, None)] if not changes else list(changes)
    entry_ids = _time_ordered_ids(len(rows))
    shared = dict(operation_id=operation_id, operation_type=operation_type, entity_type=entity_type,
                  category=category, user_id=user_id, timestamp=now, **ids)
    db.session.execute(insert(operation_log_table), [
        dict(shared, id=entry_id, property=prop, org_value=value_string(org), new_value=value_string(new))
        for entry_id, (prop, org, new) in zip(entry_ids, rows)
    ])
    return operation_id


def log_identity(operation_type, entity_type, **ids):
    """An identity change (category Admin): one row per id named, e.g. ``userId`` and
    ``groupId`` for a group membership, the id as the new value (Camunda's logUserOperation,
    logGroupOperation, logTenantOperation, logMembershipOperation)."""
    return log_operation(operation_type, entity_type, [(name, None, value) for name, value in ids.items()],
                         category=ADMIN, tenant_id=ids.get("tenantId"))


def _authorization_values(row):
    if row is None:
        return {}
    resource = RESOURCES_BY_TYPE.get(row["resource_type"])
    names = permission_names(row["type"], row["permissions"], row["resource_type"])
    return {"permissionBits": row["permissions"], "permissions": "[" + ", ".join(names) + "]",
            "type": row["type"], "resource": resource.name if resource else row["resource_type"],
            "resourceId": row["resource_id"], "userId": row["user_id"], "groupId": row["group_id"]}


def log_authorization(operation_type, row, previous=None):
    """An authorization created, updated (``previous``: the row before) or deleted: Camunda's
    logAuthorizationOperation, one row per property; ``userId``/``groupId`` only when set
    before or after."""
    new, old = _authorization_values(row), _authorization_values(previous)
    changes = [(name, old.get(name), value) for name, value in new.items()
               if name not in ("userId", "groupId") or value is not None or old.get(name) is not None]
    return log_operation(operation_type, AUTHORIZATION, changes, category=ADMIN)


def job_before(job_id):
    """What a job operation's entries need, read before the change: the job's context ids and
    its current retries, due date and priority. None when nothing will be logged (no
    authenticated user, so no extra read) or there is no such job."""
    if acting_user_id() is None or not is_storable(job_id):
        return None
    c = job_table.c
    return db.session.execute(select(*[c[name] for name in JOB_CONTEXT], c.retries, c.due_date, c.priority)
                              .where(c.id == job_id)).mappings().first()


def log_job_operation(operation_type, job_id, before, changes=()):
    """One operation on one job (entity type Job, the job's context): ``changes`` are
    ``(property, column, new value)``, the original value being ``before[column]`` (``column``
    None: no original value). Nothing when ``before`` is None (see :func:`job_before`)."""
    if before is None:
        return None
    rows = [(prop, before[column] if column else None, new) for prop, column, new in changes]
    return log_operation(operation_type, JOB, rows, job_id=job_id, **{name: before[name] for name in JOB_CONTEXT})


def log_job_definition_operation(operation_type, entity_type, job_definition_id, changes=()):
    """An operation by job definition, with the definition's process definition and deployment."""
    if acting_user_id() is None:
        return None
    d = job_definition_table.c
    row = db.session.execute(select(d.process_definition_id, d.process_definition_key, d.deployment_id, d.tenant_id)
                             .where(d.id == job_definition_id)).mappings().first() if is_storable(
        job_definition_id) else None
    return log_operation(operation_type, entity_type, changes, job_definition_id=job_definition_id,
                         **(dict(row) if row is not None else {}))


# --- reading ---------------------------------------------------------------------------------

def _permission_condition(authentication, category_permission, definition_permission):
    """Entries the caller may see (or change): by category, or by process definition key."""
    c = operation_log_table.c
    return or_(readable_condition(authentication, category_permission, OPERATION_LOG_CATEGORY, c.category),
               and_(c.process_definition_key.isnot(None),
                    readable_condition(authentication, definition_permission, PROCESS_DEFINITION,
                                       c.process_definition_key)))


def _conditions(query):
    f = query.filters
    c = operation_log_table.c
    if f.get("match_nothing"):
        return [false()]
    where = [c[column] == f[key] for key, column in _EQUALS.items() if key in f]
    if "entity_type_in" in f:
        where.append(c.entity_type.in_(f["entity_type_in"]))
    if "category_in" in f:
        where.append(c.category.in_(f["category_in"]))
    if "after_timestamp" in f:
        where.append(c.timestamp > f["after_timestamp"])
    if "before_timestamp" in f:
        where.append(c.timestamp < f["before_timestamp"])
    where.append(_permission_condition(f.get("authentication"), "READ", "READ_HISTORY"))
    return where


_ENTRIES = RowQuery(operation_log_table, COLUMNS, _conditions)


def list_entries(authentication, query, first_result=None, max_results=None):
    return _ENTRIES.list(_scoped(authentication, query), first_result, max_results)


def stream_entries(authentication, query, first_result=None, chunk_size=1000):
    return _ENTRIES.stream(_scoped(authentication, query), first_result, chunk_size)


def count_entries(authentication, query):
    return _ENTRIES.count(_scoped(authentication, query))


def _scoped(authentication, query):
    return type(query)(filters={**query.filters, "authentication": authentication}, ordering=query.ordering)


# --- changing: annotations and deletion ------------------------------------------------------

def _check_entry_permission(authentication, row, category_permission, definition_permission):
    """Camunda's checks for changing one entry: the category's permission, else the process
    definition's history permission; 403 naming both when neither is granted."""
    if is_authorized(authentication, category_permission, OPERATION_LOG_CATEGORY, row.category):
        return
    key = row.process_definition_key
    if key is not None and is_authorized(authentication, definition_permission, PROCESS_DEFINITION, key):
        return
    raise AuthorizationError(authentication.user_id, [
        MissingAuthorization(category_permission, OPERATION_LOG_CATEGORY, row.category),
        MissingAuthorization(definition_permission, PROCESS_DEFINITION, key),
    ])


def set_annotation(authentication, operation_id, annotation):
    """``PUT /history/user-operation/{operationId}/set-annotation`` (``annotation`` None: clear).

    Every entry of the operation gets the annotation; one entry records the change. An unknown
    operation id is Camunda's 400 ``operation is null``.
    """
    c = operation_log_table.c
    rows = db.session.execute(select(c.category, c.process_definition_key)
                              .where(c.operation_id == operation_id)).all() if is_storable(operation_id) else []
    if not rows:
        raise BadUserRequest("operation is null")
    if authentication is not None:
        for row in {(row.category, row.process_definition_key): row for row in rows}.values():
            _check_entry_permission(authentication, row, "UPDATE", "UPDATE_HISTORY")
    db.session.execute(update(operation_log_table).where(c.operation_id == operation_id)
                       .values(annotation=annotation))
    log_operation(SET_ANNOTATION if annotation is not None else CLEAR_ANNOTATION, OPERATION_LOG,
                  [("operationId", None, operation_id)])
    db.session.commit()


def delete_entry(authentication, entry_id):
    """``DELETE /history/user-operation/{id}``: one entry; an unknown id is a no-op (Camunda's
    ``deleteUserOperationLogEntry`` ignores it too)."""
    c = operation_log_table.c
    if not is_storable(entry_id):
        return
    row = db.session.execute(select(c.category, c.process_definition_key).where(c.id == entry_id)).first()
    if row is None:
        db.session.rollback()
        return
    if authentication is not None:
        _check_entry_permission(authentication, row, "DELETE", "DELETE_HISTORY")
    db.session.execute(delete(operation_log_table).where(c.id == entry_id))
    db.session.commit()
