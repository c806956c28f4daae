"""The batch type registry: a second batch type, declared only here, runs on the unchanged engine.

``test.set-priority`` sets the priority of the selected jobs. It is registered the way the
built-in set-job-retries type is (app.services.batches.handlers.register_batch_types), and the
engine's creation, seeding, execution, completion, suspension and deletion run it as they are.
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from app.core.errors import InvalidRequest
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES, HANDLER_BATCH_SEED
from app.extensions import db
from app.models.tables import batch_slice_table, batch_table, historic_batch_table, job_table
from app.services.batches import engine
from app.services.batches.handlers import execute_slice, register_batch_types
from app.services.batches.set_job_retries import SET_JOB_RETRIES
from app.services.batches.types import BatchType, Selection, SliceResult, get_batch_type, register_batch_type
from app.services.executor.handlers import enabled_handlers, init_handlers
from app.services.sql import in_ids
from tests.support import BATCH_TARGET, drain_jobs, recorded_statements, run_one, writes

SET_PRIORITY = "test.set-priority"


@dataclass
class SetPriorityRequest:
    priority: int
    job_ids: list | None = None
    handler_type: str | None = None  # select every job of this handler type


def _selection(request):
    query = None
    if request.handler_type is not None:
        query = select(job_table.c.id).where(job_table.c.handler_type == request.handler_type)
    return Selection.of(request.job_ids, query)


def _validate(request, selection):
    if request.priority < 0:
        raise InvalidRequest("priority is negative")


def _apply_slice(ids, configuration):
    c = job_table.c
    updated = db.session.execute(update(job_table).where(in_ids(c.id, ids))
                                 .values(priority=configuration["priority"], revision=c.revision + 1)
                                 .returning(c.id)).scalars().all()
    return SliceResult(updated=updated, missing=sorted(set(ids) - set(updated)))


SET_PRIORITY_TYPE = BatchType(
    name=SET_PRIORITY,
    empty_selection_message="jobs is empty",
    selection=_selection,
    validate=_validate,
    configuration=lambda request: {"priority": request.priority},
    apply_slice=_apply_slice,
)
register_batch_types(SET_PRIORITY_TYPE)


@pytest.fixture
def batch_settings(app, monkeypatch):
    """Small slices and seeds; the executor's enabled handlers include the test type."""
    init_handlers(app)  # the app may have been built before this module registered its type
    monkeypatch.setitem(app.config, "INVOCATIONS_PER_BATCH_JOB_BY_TYPE", {})
    monkeypatch.setitem(app.config, "INVOCATIONS_PER_BATCH_JOB", 2)
    monkeypatch.setitem(app.config, "BATCH_JOBS_PER_SEED", 1)


def rows(table, *conditions):
    result = db.session.execute(select(table).where(*conditions)).mappings().all()
    db.session.commit()
    return result


def priorities(ids):
    return {row["id"]: row["priority"] for row in rows(job_table, job_table.c.id.in_(ids))}


def table_counts():
    counts = {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
              for table in (batch_table, historic_batch_table, batch_slice_table, job_table)}
    db.session.commit()
    return counts


# --- the registry ---------------------------------------------------------------------------

def test_registry_holds_the_built_in_and_the_test_type(app):
    assert get_batch_type(BATCH_TYPE_SET_JOB_RETRIES) is SET_JOB_RETRIES
    assert get_batch_type(SET_PRIORITY) is SET_PRIORITY_TYPE
    init_handlers(app)
    with app.app_context():
        handlers = enabled_handlers()
    # One generic execution handler, under each type's name (its execution jobs' handler type).
    assert handlers[BATCH_TYPE_SET_JOB_RETRIES] is execute_slice and handlers[SET_PRIORITY] is execute_slice


def test_a_name_is_registered_once():
    register_batch_type(SET_PRIORITY_TYPE)  # the same type again: no change
    with pytest.raises(ValueError, match="already registered"):
        register_batch_type(BatchType(name=SET_PRIORITY, empty_selection_message="x", selection=_selection,
                                      configuration=dict, apply_slice=_apply_slice))
    assert get_batch_type(SET_PRIORITY) is SET_PRIORITY_TYPE


def test_an_unknown_type_creates_nothing(app_context):
    with pytest.raises(LookupError, match="no batch type 'test.nothing' is registered"):
        engine.create_batch("test.nothing", SetPriorityRequest(priority=1, job_ids=["a"]))
    assert table_counts()["batch"] == 0


# --- the engine runs the second type ----------------------------------------------------------

def test_second_type_runs_from_creation_to_history(client, app_context, batch_settings, targets):
    ids = targets(4, priority=1)
    others = targets(1, priority=1)
    batch = engine.create_batch(SET_PRIORITY, SetPriorityRequest(priority=7, job_ids=ids[:1] + ["gone"],
                                                                 handler_type=None))
    assert (batch["type"], batch["total_jobs"], batch["element_count"]) == (SET_PRIORITY, 1, 2)
    assert batch["configuration"] == {"priority": 7}
    # The same through the REST resources, which know nothing of the type.
    dto = client.get(f"/engine-rest/batch/{batch['id']}").get_json()
    assert dto["type"] == SET_PRIORITY and dto["totalJobs"] == 1
    assert client.get(f"/engine-rest/batch?type={SET_PRIORITY}").get_json() == [dto]
    definitions = client.get(f"/engine-rest/job-definition?jobDefinitionId={batch['batch_job_definition_id']}")
    assert [definition["jobType"] for definition in definitions.get_json()] == [SET_PRIORITY]

    outcomes = [outcome for _, outcome in drain_jobs()]
    # The seed, the slice and the monitor ran ("skipped": a monitor the batch's completion deleted).
    assert len(outcomes) == 3 and outcomes.count("done") >= 2 and "failed" not in outcomes
    assert priorities(ids + others) == {ids[0]: 7, ids[1]: 1, ids[2]: 1, ids[3]: 1, others[0]: 1}
    assert client.get(f"/engine-rest/batch/{batch['id']}").status_code == 404
    history = client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()
    assert history["type"] == SET_PRIORITY and history["endTime"] is not None
    assert (history["elements"], history["skippedElements"]) == (2, 1)


def test_selection_by_query_and_ids_is_deduplicated_and_sliced(client, app_context, batch_settings, targets):
    ids = targets(5, priority=1)
    batch = engine.create_batch(SET_PRIORITY, SetPriorityRequest(priority=3, job_ids=[ids[0], ids[0], "gone"],
                                                                 handler_type=BATCH_TARGET))
    # 5 targets (ids[0] also explicit) + "gone": 6 elements in slices of 2, one per seed run.
    assert (batch["element_count"], batch["total_jobs"]) == (6, 3)
    for created in (1, 2, 3):
        assert run_one(HANDLER_BATCH_SEED) == "done"
        execution_jobs = rows(job_table, job_table.c.job_definition_id == batch["batch_job_definition_id"])
        # An execution job names its batch and slice; the configuration stays on the batch row.
        assert sorted(job["handler_configuration"]["slice"] for job in execution_jobs) == list(range(created))
        assert all(set(job["handler_configuration"]) == {"batchId", "slice"} for job in execution_jobs)
    drain_jobs()
    assert set(priorities(ids).values()) == {3}
    assert client.get(f"/engine-rest/history/batch/{batch['id']}").get_json()["skippedElements"] == 1


def test_execution_jobs_read_the_configuration_from_the_batch_row(app_context, batch_settings, targets):
    ids = targets(2, priority=1)
    batch = engine.create_batch(SET_PRIORITY, SetPriorityRequest(priority=5, job_ids=ids))
    run_one(HANDLER_BATCH_SEED)
    db.session.execute(update(batch_table).where(batch_table.c.id == batch["id"])
                       .values(configuration={"priority": 42}))
    db.session.commit()
    drain_jobs()
    assert set(priorities(ids).values()) == {42}


def test_the_type_validates_before_anything_is_written(app, app_context, batch_settings, targets):
    targets(3)
    before = table_counts()
    with recorded_statements(app) as sent:
        with pytest.raises(InvalidRequest, match="priority is negative"):
            engine.create_batch(SET_PRIORITY, SetPriorityRequest(priority=-1, handler_type=BATCH_TARGET))
    assert writes(sent) == [] and table_counts() == before


@pytest.mark.parametrize("request_", [
    SetPriorityRequest(priority=1, handler_type="test.nobody"),
    SetPriorityRequest(priority=1),  # neither ids nor a query: nothing is even sent
])
def test_an_empty_selection_raises_the_types_message(app_context, batch_settings, targets, request_):
    targets(2)
    before = table_counts()
    with pytest.raises(InvalidRequest, match="^jobs is empty$"):
        engine.create_batch(SET_PRIORITY, request_)
    assert table_counts() == before


def test_suspension_and_deletion_are_generic(client, app_context, batch_settings, targets):
    ids = targets(4, priority=1)
    batch = engine.create_batch(SET_PRIORITY, SetPriorityRequest(priority=9, job_ids=ids))
    run_one(HANDLER_BATCH_SEED)
    assert client.put(f"/engine-rest/batch/{batch['id']}/suspended", json={"suspended": True}).status_code == 204
    assert drain_jobs() == []
    assert client.put(f"/engine-rest/batch/{batch['id']}/suspended", json={"suspended": False}).status_code == 204
    assert run_one(SET_PRIORITY) == "done"
    assert client.delete(f"/engine-rest/batch/{batch['id']}?cascade=true").status_code == 204
    assert drain_jobs() == []
    assert sorted(priorities(ids).values()) == [1, 1, 9, 9]  # one slice of two ran before the deletion
    assert client.get(f"/engine-rest/history/batch/{batch['id']}").status_code == 404
    assert table_counts()["batch_slice"] == 0


def test_a_slice_of_a_deleted_batch_does_nothing(app_context):
    assert engine.run_execution_slice("no-such-batch", 0) == SliceResult()
