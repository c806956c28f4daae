"""A batch type that only selects differently (``stored_as``) and a type that wants its slice's
position (``slice_position``): the by-process set-retries type (A20) is both."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.core.names import BATCH_TYPE_SET_JOB_RETRIES, BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS
from app.extensions import db
from app.models.tables import job_definition_table
from app.services.batches import engine
from app.services.batches.set_job_retries import spread_due_dates
from app.services.batches.types import SlicePosition, get_batch_type
from app.services.executor.handlers import enabled_handlers


@dataclass
class ByProcess:
    retries: int
    process_instance_ids: list | None = None
    process_instance_query: dict | None = None
    due_date_set: bool = False
    due_date: object = None
    due_date_spread_seconds: int | None = None


def test_the_variant_is_stored_and_run_as_set_job_retries(app, app_context, make_jobs, monkeypatch):
    variant = get_batch_type(BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS)
    assert variant.stored_type == BATCH_TYPE_SET_JOB_RETRIES
    assert get_batch_type(BATCH_TYPE_SET_JOB_RETRIES).stored_type == BATCH_TYPE_SET_JOB_RETRIES
    # Only the stored type has an execution handler: no job is ever of the variant's name.
    assert BATCH_TYPE_SET_JOB_RETRIES in enabled_handlers()
    assert BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS not in enabled_handlers()
    # The slice size is the stored type's.
    monkeypatch.setitem(app.config, "INVOCATIONS_PER_BATCH_JOB_BY_TYPE", {BATCH_TYPE_SET_JOB_RETRIES: 2})
    make_jobs({}, {}, {}, handlerType="test.target", retries=0, processInstanceId="pi")
    request = ByProcess(retries=1, process_instance_ids=["pi"])
    batch = engine.create_batch(BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS, request)
    assert batch["type"] == BATCH_TYPE_SET_JOB_RETRIES
    assert (batch["invocations_per_batch_job"], batch["total_jobs"]) == (2, 2)
    execution_type = db.session.execute(select(job_definition_table.c.job_type).where(
        job_definition_table.c.id == batch["batch_job_definition_id"])).scalar_one()
    assert execution_type == BATCH_TYPE_SET_JOB_RETRIES


def test_spread_positions_cover_the_batch_evenly():
    start = datetime(2030, 1, 1)
    first = spread_due_dates(["a", "b"], start, 60, SlicePosition(offset=0, total=3))
    last = spread_due_dates(["c"], start, 60, SlicePosition(offset=2, total=3))
    assert [value.isoformat() for value in (*first.values(), *last.values())] == [
        "2030-01-01T00:00:00", "2030-01-01T00:00:20", "2030-01-01T00:00:40"]
    # Millisecond precision, like every stored date.
    assert spread_due_dates(["x", "y", "z"], start, 1, SlicePosition(0, 3))["y"].microsecond == 333000
