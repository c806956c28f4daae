"""JobDto out (spec B.1.10) and the ingestion item schema of ``POST /api/jobs`` in.

JobDto is written by a plain function over row mappings: it runs once per row on lists of up
to a million rows, where a marshmallow dump per row would cost more than the query.
"""

from marshmallow import fields, validate

from app.core.dates import format_date
from app.core.names import JOB_TYPES
from schemas.common import BaseSchema, Int32, Long, StrictBoolean, WireDate


def job_dto(row, zone="UTC"):
    """The 15-key JobDto, nulls present, dates in Camunda's format."""
    return {
        "id": row["id"],
        "jobDefinitionId": row["job_definition_id"],
        "dueDate": format_date(row["due_date"], zone),
        "processInstanceId": row["process_instance_id"],
        "executionId": row["execution_id"],
        "processDefinitionId": row["process_definition_id"],
        "processDefinitionKey": row["process_definition_key"],
        "retries": row["retries"],
        "exceptionMessage": row["exception_message"],
        "failedActivityId": row["failed_activity_id"],
        "suspended": bool(row["suspended"]),
        "priority": row["priority"],
        "tenantId": row["tenant_id"],
        "createTime": format_date(row["create_time"], zone),
        "batchId": row["batch_id"],
    }


def Id(**kwargs):  # noqa: N802 - reads like a field class in the schema below
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def Name(**kwargs):  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=255), **kwargs)


class NewJobSchema(BaseSchema):
    """One item of ``POST /api/jobs`` (our extension: Camunda creates jobs from BPMN)."""

    id = Id(allow_none=True)
    type = fields.String(load_default="message", validate=validate.OneOf(JOB_TYPES))
    handler_type = Name(data_key="handlerType", required=True)
    handler_configuration = fields.Dict(data_key="handlerConfiguration", allow_none=True, load_default=None)
    due_date = WireDate(data_key="dueDate", allow_none=True, load_default=None)
    retries = Int32(load_default=None, allow_none=True, validate=validate.Range(min=0))
    priority = Long(load_default=0)
    suspended = StrictBoolean(load_default=False)
    tenant_id = Id(data_key="tenantId", allow_none=True, load_default=None)
    process_instance_id = Id(data_key="processInstanceId", allow_none=True, load_default=None)
    execution_id = Id(data_key="executionId", allow_none=True, load_default=None)
    process_definition_id = Id(data_key="processDefinitionId", allow_none=True, load_default=None)
    process_definition_key = Name(data_key="processDefinitionKey", allow_none=True, load_default=None)
    activity_id = Name(data_key="activityId", allow_none=True, load_default=None)
    job_definition_id = Id(data_key="jobDefinitionId", allow_none=True, load_default=None)
    exception_message = fields.String(data_key="exceptionMessage", allow_none=True, load_default=None,
                                      validate=validate.Length(max=4000))
    exception_stacktrace = fields.String(data_key="exceptionStacktrace", allow_none=True, load_default=None)
    failed_activity_id = Name(data_key="failedActivityId", allow_none=True, load_default=None)
    create_time = WireDate(data_key="createTime", allow_none=True, load_default=None)
    deployment_id = Id(data_key="deploymentId", allow_none=True, load_default=None)
