"""BatchDto (B.4.1), BatchStatisticsDto (B.4.2) and HistoricBatchDto (B.4.3) out, from row
mappings; the suspension body and the ``cascade`` parameter of the batch resource in.

``skippedElements`` (and ``elements``) are our extension fields (spec A10): elements whose job
no longer existed when their slice ran, and the size of the selection.
"""

from marshmallow import ValidationError, fields, post_load

from app.core.dates import format_date
from schemas.common import BaseSchema, CommandSchema, convert_bool_param, dto_schema, url
from schemas.fields import bool_out, date_out, int_out, long_out, text_out

_BATCH = {
    "id": text_out(nullable=False),
    "type": text_out(nullable=False),
    "totalJobs": int_out(nullable=False),
    "jobsCreated": int_out(nullable=False),
    "batchJobsPerSeed": int_out(nullable=False),
    "invocationsPerBatchJob": int_out(nullable=False),
    "seedJobDefinitionId": text_out(),
    "monitorJobDefinitionId": text_out(),
    "batchJobDefinitionId": text_out(),
    "suspended": bool_out(),
    "tenantId": text_out(),
    "createUserId": text_out(),
    "startTime": date_out(),
    "executionStartTime": date_out(),
}
BatchDto = dto_schema("BatchDto", _BATCH)
BatchStatisticsDto = dto_schema("BatchStatisticsDto", {
    **_BATCH,
    "remainingJobs": long_out(nullable=False),
    "completedJobs": long_out(nullable=False),
    "failedJobs": long_out(nullable=False),
    "skippedElements": long_out(nullable=False, description="Our extension (spec A10)"),
})
HistoricBatchDto = dto_schema("HistoricBatchDto", {
    "id": text_out(nullable=False),
    "type": text_out(nullable=False),
    "totalJobs": int_out(nullable=False),
    "batchJobsPerSeed": int_out(nullable=False),
    "invocationsPerBatchJob": int_out(nullable=False),
    "seedJobDefinitionId": text_out(),
    "monitorJobDefinitionId": text_out(),
    "batchJobDefinitionId": text_out(),
    "tenantId": text_out(),
    "createUserId": text_out(),
    "startTime": date_out(),
    "endTime": date_out(),
    "removalTime": date_out(),
    "executionStartTime": date_out(),
    "elements": long_out(nullable=False, description="Our extension (spec A10): the size of the selection"),
    "skippedElements": long_out(nullable=False, description="Our extension (spec A10)"),
})


def batch_dto(row, zone="UTC"):
    return {
        "id": row["id"],
        "type": row["type"],
        "totalJobs": row["total_jobs"],
        "jobsCreated": row["jobs_created"],
        "batchJobsPerSeed": row["batch_jobs_per_seed"],
        "invocationsPerBatchJob": row["invocations_per_batch_job"],
        "seedJobDefinitionId": row["seed_job_definition_id"],
        "monitorJobDefinitionId": row["monitor_job_definition_id"],
        "batchJobDefinitionId": row["batch_job_definition_id"],
        "suspended": bool(row["suspended"]),
        "tenantId": row["tenant_id"],
        "createUserId": row["create_user_id"],
        "startTime": format_date(row["start_time"], zone),
        "executionStartTime": format_date(row["execution_start_time"], zone),
    }


def batch_statistics_dto(row, zone="UTC"):
    """BatchDto + remainingJobs, completedJobs, failedJobs (+ our skippedElements).

    ``row`` carries ``existing_jobs`` and ``failed_jobs``: the batch's execution jobs that exist
    now, and those of them at 0 retries (spec B.4.2 formulas).
    """
    remaining = row["existing_jobs"] + (row["total_jobs"] - row["jobs_created"])
    dto = batch_dto(row, zone)
    dto.update({
        "remainingJobs": remaining,
        "completedJobs": row["total_jobs"] - remaining,
        "failedJobs": row["failed_jobs"],
        "skippedElements": row["skipped_elements"],
    })
    return dto


def historic_batch_dto(row, zone="UTC"):
    return {
        "id": row["id"],
        "type": row["type"],
        "totalJobs": row["total_jobs"],
        "batchJobsPerSeed": row["batch_jobs_per_seed"],
        "invocationsPerBatchJob": row["invocations_per_batch_job"],
        "seedJobDefinitionId": row["seed_job_definition_id"],
        "monitorJobDefinitionId": row["monitor_job_definition_id"],
        "batchJobDefinitionId": row["batch_job_definition_id"],
        "tenantId": row["tenant_id"],
        "createUserId": row["create_user_id"],
        "startTime": format_date(row["start_time"], zone),
        "endTime": format_date(row["end_time"], zone),
        "removalTime": format_date(row["removal_time"], zone),
        "executionStartTime": format_date(row["execution_start_time"], zone),
        "elements": row["element_count"],
        "skippedElements": row["skipped_elements"],
    }


class _PrimitiveBoolean(fields.Field):
    """A Java ``boolean`` as Jackson reads it: absent or null is false; true and false also as
    strings in any case. Anything else is a 400 (A2)."""

    def __init__(self, **kwargs):
        super().__init__(load_default=False, allow_none=True, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        return False if value is None else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValidationError(f"{self.name} must be a boolean (true or false), got {value!r}")


class SuspensionStateSchema(CommandSchema):
    """``PUT /batch/{id}/suspended`` (SuspensionStateDto); loads the flag."""

    not_an_object = 'The body must be a JSON object such as {{"suspended": true}}'
    empty_body_is_empty_object = False

    suspended = _PrimitiveBoolean()

    @post_load
    def _flag(self, loaded, **kwargs):
        return loaded["suspended"]


def _cascade(name, values):
    """An empty ``cascade=`` is false, as an absent one."""
    return False if values[0] == "" else convert_bool_param(name, values[0])


class DeleteBatchArgsSchema(BaseSchema):
    """``DELETE /batch/{id}?cascade=``; loads the flag (also delete the historic batch)."""

    cascade = fields.Raw(load_default=False, metadata={**url(_cascade), "type": "boolean"})

    @post_load
    def _flag(self, loaded, **kwargs):
        return loaded["cascade"]
