"""set_job_retries (spec B.5.12): the per-job effects shared by PUT /job/{id}/retries and batches."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.dates import utcnow
from app.extensions import db
from app.models import Incident, Job, JobStacktrace
from app.services.jobs.retries import UNSET, set_job_retries
from tests.support import job_incidents as incidents
from tests.support import set_job_columns as set_columns

job_table = Job.__table__
incident_table = Incident.__table__


def apply(app, ids, retries, due_date=UNSET):
    with app.app_context():
        result = set_job_retries(ids, retries, due_date)
        db.session.commit()
        db.session.remove()
    return result


def job_row(app, job_id):
    with app.app_context():
        row = db.session.execute(select(job_table).where(job_table.c.id == job_id)).mappings().first()
        trace = db.session.execute(
            select(JobStacktrace.stacktrace).where(JobStacktrace.job_id == job_id)).scalar()
        db.session.remove()
        return {**row, "exception_stacktrace": trace} if row else None


def test_zero_to_n_resolves_the_incident_and_wakes_the_executor(app, make_jobs, dispatched):
    job = make_jobs({"retries": 0, "exceptionMessage": "broken"})[0]
    assert len(incidents(app, job["id"])) == 1
    dispatched.clear()

    result = apply(app, [job["id"]], 2)

    assert result.updated == [job["id"]] and result.missing == []
    assert job_row(app, job["id"])["retries"] == 2
    assert incidents(app, job["id"]) == []
    assert dispatched.names() == ["executor.acquire"]


def test_n_to_zero_creates_exactly_one_incident(app, make_jobs, dispatched):
    job = make_jobs({"retries": 2, "exceptionMessage": "last error", "activityId": "task",
                     "processInstanceId": "pi-1", "tenantId": "t1"})[0]
    dispatched.clear()

    apply(app, [job["id"]], 0)
    apply(app, [job["id"]], 0)  # 0 -> 0 changes nothing about incidents

    found = incidents(app, job["id"])
    assert len(found) == 1
    incident = found[0]
    assert incident["incident_type"] == "failedJob"
    assert incident["incident_message"] == "last error"
    assert incident["job_definition_id"] == job["jobDefinitionId"]
    assert incident["process_instance_id"] == "pi-1"
    assert incident["activity_id"] == "task"
    assert incident["tenant_id"] == "t1"
    assert job_row(app, job["id"])["retries"] == 0
    assert dispatched.names() == []  # nothing became executable


def test_n_to_m_leaves_incidents_alone(app, make_jobs):
    job = make_jobs({"retries": 3})[0]
    apply(app, [job["id"]], 7)
    assert job_row(app, job["id"])["retries"] == 7
    assert incidents(app, job["id"]) == []


def test_reset_then_fail_again_keeps_one_incident(app, make_jobs):
    job = make_jobs({"retries": 0})[0]
    first = incidents(app, job["id"])[0]["id"]
    apply(app, [job["id"]], 1)
    apply(app, [job["id"]], 0)
    found = incidents(app, job["id"])
    assert len(found) == 1 and found[0]["id"] != first


def test_due_date_absent_value_and_null(app, make_jobs):
    original = "2030-01-02T03:04:05.678+0000"
    job = make_jobs({"dueDate": original})[0]
    stored = job_row(app, job["id"])["due_date"]

    apply(app, [job["id"]], 4)  # absent: untouched
    assert job_row(app, job["id"])["due_date"] == stored

    wanted = datetime(2031, 5, 6, 7, 8, 9, 123000)
    apply(app, [job["id"]], 4, wanted)
    assert job_row(app, job["id"])["due_date"] == wanted

    apply(app, [job["id"]], 4, None)
    assert job_row(app, job["id"])["due_date"] is None


def test_owner_without_expiry_is_an_inconsistent_lock_and_is_cleared(app, make_jobs):
    job = make_jobs({"retries": 2})[0]
    set_columns(app, job["id"], lock_owner="ghost", lock_expiration_time=None)
    apply(app, [job["id"]], 3)
    row = job_row(app, job["id"])
    assert row["lock_owner"] is None and row["lock_expiration_time"] is None


def test_failed_job_still_locked_is_unlocked(app, make_jobs):
    job = make_jobs({"retries": 0})[0]
    set_columns(app, job["id"], lock_owner="worker-1", lock_expiration_time=utcnow() + timedelta(minutes=5))
    apply(app, [job["id"]], 3)
    row = job_row(app, job["id"])
    assert row["lock_owner"] is None and row["lock_expiration_time"] is None
    assert row["retries"] == 3


def test_consistent_lock_is_kept(app, make_jobs):
    job = make_jobs({"retries": 2})[0]
    expires = utcnow() + timedelta(minutes=5)
    set_columns(app, job["id"], lock_owner="worker-1", lock_expiration_time=expires)
    apply(app, [job["id"]], 5)
    row = job_row(app, job["id"])
    assert row["lock_owner"] == "worker-1" and row["lock_expiration_time"] == expires
    assert row["retries"] == 5


def test_exception_message_and_stacktrace_are_kept_and_revision_bumped(app, make_jobs):
    job = make_jobs({"retries": 0, "exceptionMessage": "boom", "exceptionStacktrace": "Traceback ...",
                     "failedActivityId": "task", "priority": 9})[0]
    before = job_row(app, job["id"])
    apply(app, [job["id"]], 1)
    after = job_row(app, job["id"])
    assert after["revision"] == before["revision"] + 1
    for column in ("exception_message", "exception_stacktrace", "failed_activity_id", "priority",
                   "suspended", "due_date"):
        assert after[column] == before[column], column


def test_missing_ids_are_reported_and_the_others_updated(app, make_jobs):
    first, second = make_jobs({}, {})
    result = apply(app, [first["id"], "no-such-job", second["id"], first["id"]], 6)
    assert sorted(result.updated) == sorted([first["id"], second["id"]])
    assert result.missing == ["no-such-job"]
    assert job_row(app, first["id"])["retries"] == 6
    assert job_row(app, second["id"])["retries"] == 6
    # a duplicate id is applied once
    assert job_row(app, first["id"])["revision"] == 2


def test_empty_id_list_is_a_no_op(app):
    result = apply(app, [], 3)
    assert result.updated == [] and result.missing == []


def test_a_slices_incident_delete_probes_the_index_instead_of_reading_every_incident(app, app_context):
    """At 1,000 jobs PostgreSQL's default random_page_cost planned a scan of every incident;
    the DELETE now runs with the cost of cached pages (app.services.incidents)."""
    from sqlalchemy import text

    from app.services.incidents import MANY_JOBS, delete_failed_job_incidents
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("a PostgreSQL planner setting")
    delete_failed_job_incidents([f"j{n}" for n in range(MANY_JOBS)])
    assert db.session.execute(text("SHOW random_page_cost")).scalar() == "1.1"
    db.session.rollback()
    assert db.session.execute(text("SHOW random_page_cost")).scalar() != "1.1"  # SET LOCAL: this transaction only
    db.session.rollback()
