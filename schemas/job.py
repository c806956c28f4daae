"""JobDto out (spec B.1.10) and the ingestion schema of ``POST /api/jobs`` in.

JobDto is written by a plain function over row mappings: it runs once per row on lists of up
to a million rows, where a marshmallow dump per row would cost more than the query.
"""

from marshmallow import ValidationError, fields, post_load, validate

from app.core.dates import format_date
from app.core.errors import InvalidRequest
from app.core.names import JOB_TYPES
from app.core.retry_cycles import RetryCycleError, parse_retry_cycle
from schemas.common import BaseSchema, CommandSchema, context_value, dto_schema
from schemas.fields import Int32, Long, StrictBoolean, WireDate, bool_out, date_out, int_out, long_out, text_out


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


JobDto = dto_schema("JobDto", {
    "id": text_out(nullable=False),
    "jobDefinitionId": text_out(),
    "dueDate": date_out(),
    "processInstanceId": text_out(),
    "executionId": text_out(),
    "processDefinitionId": text_out(),
    "processDefinitionKey": text_out(),
    "retries": int_out(),
    "exceptionMessage": text_out(),
    "failedActivityId": text_out(),
    "suspended": bool_out(),
    "priority": long_out(nullable=False),
    "tenantId": text_out(),
    "createTime": date_out(),
    "batchId": text_out(description="The batch whose execution job this is (null for other jobs)"),
})


def Id(**kwargs):  # noqa: N802 - reads like a field class in the schema below
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def Name(**kwargs):  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=255), **kwargs)


def _retry_cycle(value):
    if value is None:
        return
    try:
        parse_retry_cycle(value)
    except RetryCycleError as error:
        raise ValidationError(str(error)) from None


class RetryTimeCycleSchema(CommandSchema):
    """``PUT /api/job-definitions/{id}/retry-time-cycle``: ``{"failedJobRetryTimeCycle": "R5/PT5M"}``
    (``null``: none); loads the text or None."""

    example = '{"failedJobRetryTimeCycle": "R5/PT5M"}'

    retry_time_cycle = fields.String(
        data_key="failedJobRetryTimeCycle", required=True, allow_none=True,
        validate=[validate.Length(min=1, max=255), _retry_cycle],
        error_messages={"required": "failedJobRetryTimeCycle is required: a cycle such as R5/PT5M, or null"})

    @post_load
    def _cycle(self, loaded, **kwargs):
        return loaded["retry_time_cycle"]


def _item_errors(messages):
    """marshmallow's ``{index: {field: [...]}}`` as ``jobs[3].handlerType: Missing data ...``."""
    parts = []
    for index in sorted(messages, key=lambda key: (not isinstance(key, int), str(key))):
        fields_ = messages[index]
        if isinstance(fields_, dict):
            for name, problems in fields_.items():
                text = " ".join(problems) if isinstance(problems, list) and all(
                    isinstance(p, str) for p in problems) else str(problems)
                parts.append(f"jobs[{index}].{name}: {text}")
        else:
            parts.append(f"jobs[{index}]: {' '.join(fields_) if isinstance(fields_, list) else fields_}")
    return "; ".join(parts)


class NewJobSchema(BaseSchema):
    """The items of ``POST /api/jobs`` (our extension: Camunda creates jobs from BPMN), loaded
    with ``many=True``: first the list as a whole (a JSON array of 1 to ``max_jobs`` objects,
    from the load context), then every item; all items' errors make one message."""

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
    # Camunda's failedJobRetryTimeCycle of the job's activity (spec C.10, A19): R5/PT5M or PT1M,PT5M.
    retry_time_cycle = fields.String(data_key="failedJobRetryTimeCycle", allow_none=True, load_default=None,
                                     validate=[validate.Length(min=1, max=255), _retry_cycle])

    def from_json(self, body):
        maximum = context_value("max_jobs")
        if not isinstance(body, list):
            raise InvalidRequest("The body must be a JSON array of jobs, e.g. [{\"handlerType\": \"demo.noop\"}]")
        if not 1 <= len(body) <= maximum:
            raise InvalidRequest(f"Send between 1 and {maximum} jobs per request; got {len(body)}")
        not_objects = [index for index, item in enumerate(body) if not isinstance(item, dict)]
        if not_objects:
            raise InvalidRequest(f"jobs[{not_objects[0]}]: each job must be a JSON object")
        return body

    def handle_error(self, error, data, **kwargs):
        raise InvalidRequest(_item_errors(error.messages)) from None
