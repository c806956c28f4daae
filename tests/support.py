"""Assertion and database helpers shared by the test modules."""

from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import Incident, Job

BASE = "/engine-rest"


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
