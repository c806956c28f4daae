"""The process instance resource: only Set Job Retries Async by process (spec C.5, A20).

This service keeps no process instances; the job rows carry their process instance's id,
definition, deployment and tenant, and answer the parts of a process instance query that
need nothing else (schemas.job_retries.SetJobRetriesByProcessSchema says which).
"""

from flask import Blueprint

from app.api.batch_requests import create_requested_batch
from app.api.common import arguments, json_response, output_zone
from app.core.names import BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS
from schemas.batch import batch_dto
from schemas.job_retries import SetJobRetriesByProcessSchema

bp = Blueprint("process_instances", __name__)


@bp.post("/process-instance/job-retries")
@arguments(SetJobRetriesByProcessSchema)
def set_job_retries_by_process(retries_request):
    """Creates a set-job-retries batch over the jobs of the selected process instances."""
    batch = create_requested_batch(BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS, retries_request)
    return json_response(batch_dto(batch, output_zone()))
