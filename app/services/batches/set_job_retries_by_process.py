"""Set job retries by process instance (``POST /process-instance/job-retries``, spec C.5, A20).

The second type of the registry. Camunda collects the ids of the process instances (explicit
``processInstances`` ∪ those its ``processInstanceQuery`` finds) and then their jobs. Here the
job rows answer directly: a job carries its process instance's id, definition, deployment and
tenant, so the selection is one ``SELECT id FROM job`` over the jobs that belong to a process
instance and whose process instance is listed or matches the query (schemas.job_retries refuses
the query properties the job rows cannot answer). It starts from
app.services.jobs.query.select_job_ids, as the set-job-retries selection does.

Its batches are Camunda's ``set-job-retries`` batches (``stored_as``): the configuration and the
slices are those of app.services.batches.set_job_retries.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, true

from app.core.names import BATCH_TYPE_SET_JOB_RETRIES, BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS
from app.models.tables import job_table
from app.services import access
from app.services.batches import set_job_retries
from app.services.batches.types import BatchType, Selection
from app.services.jobs.query import job_conditions, select_job_ids
from app.services.sql import in_ids


@dataclass
class _JobFilters:
    """A job query as app.services.jobs.query reads one (its ``filters``)."""

    filters: dict = field(default_factory=dict)


def _query_conditions(query):
    """The process instance query's properties as conditions on the job rows."""
    c = job_table.c
    filters = {}
    if "processInstanceIds" in query:
        filters["process_instance_ids"] = query["processInstanceIds"]
    if "processDefinitionId" in query:
        filters["process_definition_id"] = query["processDefinitionId"]
    if "processDefinitionKey" in query:
        filters["process_definition_key"] = query["processDefinitionKey"]
    if query.get("withoutTenantId"):
        filters["without_tenant_id"] = True
    elif "tenantIdIn" in query:
        filters["tenant_id_in"] = query["tenantIdIn"]
    conditions = job_conditions(_JobFilters(filters))
    if "processDefinitionKeyIn" in query:
        conditions.append(c.process_definition_key.in_(query["processDefinitionKeyIn"]))
    if "processDefinitionKeyNotIn" in query:
        conditions.append(c.process_definition_key.notin_(query["processDefinitionKeyNotIn"]))
    if "deploymentId" in query:
        conditions.append(c.deployment_id == query["deploymentId"])
    return conditions


def selection(request):
    """The jobs of the listed process instances ∪ the jobs of the instances the query matches."""
    c = job_table.c
    chosen = []
    if request.process_instance_ids:
        chosen.append(in_ids(c.process_instance_id, sorted(set(request.process_instance_ids))))
    if request.process_instance_query is not None:
        chosen.append(and_(true(), *_query_conditions(request.process_instance_query)))
    query = select_job_ids(_JobFilters()).where(c.process_instance_id.isnot(None), or_(*chosen))
    return Selection.of(None, query)


def authorize(request, selection, authentication):
    """The selection within what the creator may read and set retries on (A16): the same tenant
    and permission conditions as a job query of ``POST /job/retries``; the execution jobs check
    them again per slice (the stored type's ``element_conditions``)."""
    if not access.is_restricted(authentication):
        return selection
    return Selection.of(None, selection.query.where(*access.job_conditions(authentication, access.RETRY_JOB)))


# Registered by app.services.batches.handlers; its batches run as set-job-retries batches.
SET_JOB_RETRIES_BY_PROCESS = BatchType(
    name=BATCH_TYPE_SET_JOB_RETRIES_BY_PROCESS,
    empty_selection_message=set_job_retries.EMPTY_SELECTION,
    selection=selection,
    validate=set_job_retries.validate,  # empty selection first, then negative retries (B.3.2)
    configuration=set_job_retries.configuration,
    apply_slice=set_job_retries.apply_slice,
    slice_position=True,
    stored_as=BATCH_TYPE_SET_JOB_RETRIES,
    create_permission="CREATE_BATCH_SET_JOB_RETRIES",
    authorize=authorize,
    element_conditions=set_job_retries.element_conditions,
    log_creation=set_job_retries.log_creation,
)
