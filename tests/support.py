"""Assertion and database helpers shared by the test modules."""

from contextlib import contextmanager

from sqlalchemy import event, func, insert, select, update

from app.extensions import db
from app.models import Batch, BatchSlice, HistoricBatch, Incident, Job, JobDefinition
from app.services.executor.acquire import acquire_jobs
from app.services.executor.execute import execute_job

BASE = "/engine-rest"
# The handler type of the jobs batch tests revive: no handler is registered for it, so the
# executor never runs them and their retries stay what the batch set.
BATCH_TARGET = "test.batch-target"


def get(client, path, **params):
    return client.get(f"{BASE}{path}", query_string=params)


def ids_of(response):
    """The ids of a 200 list response."""
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()]


def count_of(response):
    """The count of a 200 ``{"count": n}`` response."""
    assert response.status_code == 200, response.get_json()
    return response.get_json()["count"]


def assert_400(response, message, code=None):
    assert response.status_code == 400, response.get_json()
    assert response.get_json() == {"type": "InvalidRequestException", "message": message, "code": code}


def insert_rows(app, table, rows):
    """Put rows straight into ``table`` (fixtures for resources no API creates directly)."""
    with app.app_context():
        db.session.execute(insert(table), rows)
        db.session.commit()
        db.session.remove()
    return rows


def job_incidents(app, job_id):
    """The incident rows that carry ``job_id`` as their configuration."""
    table = Incident.__table__
    with app.app_context():
        rows = db.session.execute(select(table).where(table.c.configuration == job_id)).mappings().all()
        db.session.remove()
        return [dict(row) for row in rows]


def set_job_columns(app, job_id, **values):
    """Write columns of one job directly (states no API produces, e.g. an inconsistent lock)."""
    table = Job.__table__
    with app.app_context():
        db.session.execute(update(table).where(table.c.id == job_id).values(**values))
        db.session.commit()
        db.session.remove()


def drain_jobs(max_rounds=200):
    """Run every acquirable job through the executor (in the caller's app context) until nothing
    is acquired; returns [(job_id, outcome)]."""
    executed = []
    for _ in range(max_rounds):
        acquired = acquire_jobs(limit=100)
        if not acquired:
            return executed
        for job_id, token, revision in acquired:
            executed.append((job_id, execute_job(job_id, token, revision)))
    raise AssertionError("the jobs did not settle")


def run_one(handler_type):
    """Acquire and run exactly one job of ``handler_type``; returns its outcome."""
    acquired = acquire_jobs(limit=1, handler_types=[handler_type])
    assert len(acquired) == 1, f"no acquirable {handler_type} job"
    job_id, token, revision = acquired[0]
    return execute_job(job_id, token, revision)


@contextmanager
def recorded_statements(app):
    """Yields the list of SQL statements (their text) the app's engine sends inside the block."""
    sent = []

    def record(connection, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def writes(statements):
    """The INSERT, UPDATE and DELETE statements among ``statements``."""
    return [s for s in statements if s.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def table_counts(app):
    with app.app_context():
        counts = {model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
                  for model in (Batch, HistoricBatch, BatchSlice, Job, JobDefinition)}
        db.session.remove()
    return counts
