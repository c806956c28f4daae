"""The worker JSON of ``GET /api/workers`` (our extension for the operator console, decision A23)."""

from app.core.dates import format_date


def worker_dto(row, zone="UTC"):
    return {
        "id": row["id"],
        "hostname": row["hostname"],
        "pid": row["pid"],
        "startedAt": format_date(row["started_at"], zone),
        "heartbeatAt": format_date(row["heartbeat_at"], zone),
        "alive": row["alive"],
        "heldJobCount": row["held_job_count"],
        "heldJobIds": row["held_job_ids"],
    }
