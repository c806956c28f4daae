"""Batches (ACT_RU_BATCH), their history (ACT_HI_BATCH) and the selected elements.

Camunda keeps a batch's selection as one JSON document that every seed run rewrites (quadratic
in the selection size). Here the selection is written once, at creation, already cut into
slices: one ``batch_slice`` row per execution job, holding that slice's job ids as one array.
The seed turns slice numbers into execution jobs and an execution job reads its slice by
``(batch_id, slice)``. Nothing is ever re-serialised.

One row per slice rather than one per element: writing 400,000 ``(batch, slice, job)`` rows
and their primary key cost 2.6 s of the batch's creation at 1M jobs, and deleting them again
when the batch ended as much; a row of 1,000 ids is one index entry (spec A24).

On PostgreSQL the ids are stored uncompressed (``STORAGE EXTERNAL``, migration 0013): hex ids
barely compress, and compressing the 400 arrays of a 1M-job batch with pglz took 330 of the
creation's 1,100 ms.

On PostgreSQL a slice selected by a job query also keeps where each of its jobs stood when the
batch was created (``job_tids``, the rows' ``ctid``, migration 0014), so that an execution job
reaches its rows without 1,000 probes of the primary key; a job that has moved since is found
by its id (app.services.jobs.retries.revive_stored_ids, spec A24).
"""

from sqlalchemy import DDL, JSON, String, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.types import UserDefinedType

from app.extensions import db
from app.models.job import new_id

# A slice's job ids: an array on PostgreSQL, a JSON array on SQLite (no array type there).
JobIdList = JSON().with_variant(ARRAY(String(64)), "postgresql")


class Tid(UserDefinedType):
    """PostgreSQL's ``tid``, a row's address (``ctid``): written and read only inside SQL
    statements, never in Python."""

    cache_ok = True

    def get_col_spec(self, **kw):
        return "tid"


# So that reflection (Alembic's comparison of the models with the migrations) knows the type.
postgresql_base.ischema_names.setdefault("tid", Tid)

# Where a slice's jobs stood at creation (PostgreSQL only; SQLite has no row addresses to keep).
JobTidList = JSON().with_variant(ARRAY(Tid), "postgresql")


class Batch(db.Model):
    __tablename__ = "batch"

    id = db.Column(db.String(64), primary_key=True, default=new_id)
    revision = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    type = db.Column(db.String(255), nullable=False)
    total_jobs = db.Column(db.Integer, nullable=False)
    jobs_created = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    batch_jobs_per_seed = db.Column(db.Integer, nullable=False)
    invocations_per_batch_job = db.Column(db.Integer, nullable=False)
    seed_job_definition_id = db.Column(db.String(64))
    monitor_job_definition_id = db.Column(db.String(64))
    batch_job_definition_id = db.Column(db.String(64))
    tenant_id = db.Column(db.String(64))
    create_user_id = db.Column(db.String(255))
    suspended = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    start_time = db.Column(db.DateTime, nullable=False)
    execution_start_time = db.Column(db.DateTime)
    # What the execution jobs apply, e.g. {"retries": 3, "dueDateSet": true, "dueDate": null}.
    configuration = db.Column(db.JSON, nullable=False)
    element_count = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # Extension (spec A10): elements whose job no longer existed when their slice ran.
    skipped_elements = db.Column(db.Integer, nullable=False, default=0, server_default="0")


class HistoricBatch(db.Model):
    __tablename__ = "historic_batch"

    id = db.Column(db.String(64), primary_key=True)
    type = db.Column(db.String(255), nullable=False)
    total_jobs = db.Column(db.Integer, nullable=False)
    batch_jobs_per_seed = db.Column(db.Integer, nullable=False)
    invocations_per_batch_job = db.Column(db.Integer, nullable=False)
    seed_job_definition_id = db.Column(db.String(64))
    monitor_job_definition_id = db.Column(db.String(64))
    batch_job_definition_id = db.Column(db.String(64))
    tenant_id = db.Column(db.String(64))
    create_user_id = db.Column(db.String(255))
    start_time = db.Column(db.DateTime, nullable=False)
    end_time = db.Column(db.DateTime)
    removal_time = db.Column(db.DateTime)
    execution_start_time = db.Column(db.DateTime)
    element_count = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    skipped_elements = db.Column(db.Integer, nullable=False, default=0, server_default="0")


class BatchSlice(db.Model):
    __tablename__ = "batch_slice"

    batch_id = db.Column(db.String(64), primary_key=True)
    slice = db.Column(db.Integer, primary_key=True)
    size = db.Column(db.Integer, nullable=False)  # len(job_ids), summed for the element count
    job_ids = db.Column(JobIdList, nullable=False)
    # job_tids[i] is where job_ids[i] stood at creation; NULL when the selection named ids.
    job_tids = db.Column(JobTidList)


# What migrations 0013 and 0014 do, for the tables the models create (tests, ``db.create_all``).
STORE_SLICES_UNCOMPRESSED = ("ALTER TABLE batch_slice ALTER COLUMN job_ids SET STORAGE EXTERNAL, "
                             "ALTER COLUMN job_tids SET STORAGE EXTERNAL")
event.listen(BatchSlice.__table__, "after_create", DDL(STORE_SLICES_UNCOMPRESSED).execute_if(dialect="postgresql"))
