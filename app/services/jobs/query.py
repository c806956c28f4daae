"""Job query -> SQL (spec B.1.2, B.1.5, B.1.6, with A3: every filter is ANDed).

All filtering, sorting and paging happen in the database. Lists are read as plain rows, never
ORM objects; an unbounded list is streamed in chunks with a server-side cursor (spec A12).
"""

from sqlalchemy import and_, exists, func, or_, select

from app.core.dates import utcnow
from app.core.text import LIKE_ESCAPE, like_to_glob
from app.extensions import db
from app.models.tables import job_definition_table, job_table
from app.services import access
from app.services.sql import (
    after_row,
    equal_conditions,
    fetch_mappings,
    is_postgres,
    order_by_columns,
    paged,
    stream_mappings,
    tenant_condition,
)

# The 15 JobDto columns, in JobDto order.
JOB_DTO_COLUMNS = (
    "id", "job_definition_id", "due_date", "process_instance_id", "execution_id",
    "process_definition_id", "process_definition_key", "retries", "exception_message",
    "failed_activity_id", "suspended", "priority", "tenant_id", "create_time", "batch_id",
)
NULLABLE_COLUMNS = set(JOB_DTO_COLUMNS) - {"id", "retries", "priority"}

_EQUALS = {
    "job_id": "id",
    "job_definition_id": "job_definition_id",
    "process_instance_id": "process_instance_id",
    "execution_id": "execution_id",
    "process_definition_id": "process_definition_id",
    "process_definition_key": "process_definition_key",
    "exception_message": "exception_message",
    "failed_activity_id": "failed_activity_id",
    "batch_id": "batch_id",  # our extension (spec A18)
}


def job_conditions(query, now=None, table=job_table):
    """The WHERE conditions of ``query`` as a list of SQLAlchemy expressions."""
    f = query.filters
    c = table.c
    now = now or utcnow()
    conditions = equal_conditions(table, f, _EQUALS)
    if "job_ids" in f:
        conditions.append(c.id.in_(sorted(set(f["job_ids"]))))
    if "process_instance_ids" in f:
        conditions.append(c.process_instance_id.in_(sorted(set(f["process_instance_ids"]))))
    if "activity_id" in f:
        conditions.append(exists().where(
            job_definition_table.c.id == c.job_definition_id,
            job_definition_table.c.activity_id == f["activity_id"],
        ))
    if f.get("with_retries_left"):
        conditions.append(c.retries > 0)
    if f.get("no_retries_left"):
        conditions.append(c.retries == 0)
    if f.get("executable"):
        conditions.append(c.retries > 0)
        conditions.append(or_(c.due_date.is_(None), c.due_date <= now))
    if f.get("timers"):
        conditions.append(c.type == "timer")
    if f.get("messages"):
        conditions.append(c.type == "message")
    if f.get("with_exception"):
        conditions.append(_has_exception(c))
    if "exception_message_like" in f:
        # Spec A18: Camunda's LIKE rules (``%``, ``_``, ``\\`` escapes), served by the trigram
        # index ix_job_exception_message_trgm on PostgreSQL, whatever the pattern starts with.
        conditions.append(_like(c.exception_message, f["exception_message_like"]))
    if f.get("retrying"):
        # Spec A18: failed at least once and will be tried again.
        conditions.append(_has_exception(c))
        conditions.append(c.retries > 0)
    if f.get("active"):
        conditions.append(c.suspended.is_(False))
    if f.get("suspended"):
        conditions.append(c.suspended.is_(True))
    if "priority_higher_than_or_equals" in f:
        conditions.append(c.priority >= f["priority_higher_than_or_equals"])
    if "priority_lower_than_or_equals" in f:
        conditions.append(c.priority <= f["priority_lower_than_or_equals"])
    due = f.get("due_dates", {})
    if "gt" in due:
        conditions.append(c.due_date > due["gt"])
    if "lt" in due:
        conditions.append(c.due_date < due["lt"])
    created = f.get("create_times", {})
    if "gt" in created:
        conditions.append(c.create_time > created["gt"])
    if "lt" in created:
        # Camunda's createdBefore is inclusive (spec B.1.3).
        conditions.append(c.create_time <= created["lt"])
    tenant = tenant_condition(c.tenant_id, f, "include_jobs_without_tenant_id")
    if tenant is not None:
        conditions.append(tenant)
    if f.get("acquired"):
        conditions.append(and_(c.lock_expiration_time.isnot(None), c.lock_expiration_time > now))
    return conditions


def _like(column, pattern):
    """``column LIKE pattern ESCAPE '\\'`` as Camunda's mappings write it, case-sensitive on
    both databases: SQLite's LIKE ignores ASCII case, so there it is the equivalent GLOB."""
    if is_postgres():
        return column.like(pattern, escape=LIKE_ESCAPE)
    return column.op("GLOB")(like_to_glob(pattern))


def _has_exception(c):
    """Camunda's withException: a message or a stack trace is recorded."""
    return or_(c.exception_message.isnot(None), c.has_stacktrace.is_(True))


def order_by_clauses(ordering, table=job_table):
    """ORDER BY for the resolved ordering (default ``id asc``, spec B.1.6)."""
    return order_by_columns(table, ordering, nullable=NULLABLE_COLUMNS)


def select_jobs(query, first_result=None, max_results=None, after=None, authentication=None):
    """``after``: only the rows after the row of this keyset (a page token, schemas.job_page).
    ``authentication``: only the jobs the caller may read (app.services.access; None: all)."""
    columns = [job_table.c[name] for name in JOB_DTO_COLUMNS]
    conditions = job_conditions(query) + access.job_conditions(authentication)
    if after:
        conditions.append(after_row(job_table, after, NULLABLE_COLUMNS))
    statement = select(*columns).where(*conditions).order_by(*order_by_clauses(query.ordering))
    return paged(statement, first_result, max_results)


def list_jobs(query, first_result=None, max_results=None, after=None, authentication=None):
    """A bounded page of job rows (mappings keyed by column name)."""
    return fetch_mappings(select_jobs(query, first_result, max_results, after, authentication))


def stream_jobs(query, first_result=None, chunk_size=1000, authentication=None):
    """Every matching row, streamed (spec A12)."""
    return stream_mappings(select_jobs(query, first_result, authentication=authentication), chunk_size)


def count_jobs(query, authentication=None):
    statement = (select(func.count()).select_from(job_table)
                 .where(*job_conditions(query), *access.job_conditions(authentication)))
    return db.session.execute(statement).scalar_one()


def select_job_ids(query, authentication=None, families=()):
    """``SELECT id FROM job WHERE <query>``, for set-based statements (batch selection); with an
    ``authentication``, only the jobs it may read and on which it has each of ``families``."""
    conditions = job_conditions(query)
    for family in (access.READ_JOB, *families) if authentication is not None else ():
        conditions += access.job_conditions(authentication, family)
    return select(job_table.c.id).where(*conditions)
