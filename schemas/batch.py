"""BatchDto (B.4.1), BatchStatisticsDto (B.4.2) and HistoricBatchDto (B.4.3), from row mappings.

``skippedElements`` (and ``elements``) are our extension fields (spec A10): elements whose job
no longer existed when their slice ran, and the size of the selection.
"""

from app.core.dates import format_date


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
