"""``POST /api/jobs``: our extension for putting jobs into the service (Camunda creates them from BPMN)."""

from flask import Blueprint, current_app
from marshmallow import ValidationError

from app.api.common import json_body, json_response, output_zone
from app.core.errors import InvalidRequest
from app.services.jobs.ingest import create_jobs
from schemas.job import NewJobSchema, job_dto

bp = Blueprint("ingest", __name__)

_ITEMS = NewJobSchema(many=True)


def _item_errors(messages):
    """marshmallow's ``{index: {field: [...]}}`` as ``jobs[3].handlerType: Missing data ...``."""
    parts = []
    for index in sorted(messages, key=lambda key: (not isinstance(key, int), str(key))):
        fields = messages[index]
        if isinstance(fields, dict):
            for name, problems in fields.items():
                text = " ".join(problems) if isinstance(problems, list) and all(
                    isinstance(p, str) for p in problems) else str(problems)
                parts.append(f"jobs[{index}].{name}: {text}")
        else:
            parts.append(f"jobs[{index}]: {' '.join(fields) if isinstance(fields, list) else fields}")
    return "; ".join(parts)


@bp.post("/jobs")
def ingest_jobs():
    body = json_body()
    maximum = current_app.config["INGEST_MAX_JOBS"]
    if not isinstance(body, list):
        raise InvalidRequest("The body must be a JSON array of jobs, e.g. [{\"handlerType\": \"demo.noop\"}]")
    if not 1 <= len(body) <= maximum:
        raise InvalidRequest(f"Send between 1 and {maximum} jobs per request; got {len(body)}")
    not_objects = [index for index, item in enumerate(body) if not isinstance(item, dict)]
    if not_objects:
        raise InvalidRequest(f"jobs[{not_objects[0]}]: each job must be a JSON object")
    try:
        items = _ITEMS.load(body)
    except ValidationError as error:
        raise InvalidRequest(_item_errors(error.messages)) from None
    zone = output_zone()
    return json_response([job_dto(row, zone) for row in create_jobs(items)], status=201)
