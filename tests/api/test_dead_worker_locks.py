"""A lock held by a dead worker counts as free for the commands that refuse a locked job.

``POST /job/{id}/execute`` and ``DELETE /job/{id}`` answer 409 while a worker holds the job. A
worker whose heartbeat is older than ``JOB_DEAD_WORKER_SECONDS`` holds nothing any more: its
jobs are acquirable at once, and these commands treat them the same way.
"""

from datetime import timedelta

from app.core.dates import utcnow
from app.models.tables import worker_table
from tests.support import BASE, insert_rows, set_job_columns


def register(app, worker_id, seconds_since_heartbeat):
    beat = utcnow() - timedelta(seconds=seconds_since_heartbeat)
    insert_rows(app, worker_table, [dict(id=worker_id, hostname="h", pid=1, started_at=beat, heartbeat_at=beat)])


def lock(app, job_id, owner):
    set_job_columns(app, job_id, lock_owner=owner, lock_expiration_time=utcnow() + timedelta(minutes=5))


def test_a_live_workers_lock_refuses_execute_and_delete(client, make_jobs, app):
    job = make_jobs({})[0]
    register(app, "w-live", 1)
    lock(app, job["id"], "w-live")
    assert client.post(f"{BASE}/job/{job['id']}/execute").status_code == 409
    assert client.delete(f"{BASE}/job/{job['id']}").status_code == 409


def test_a_dead_workers_lock_lets_execute_and_delete_through(client, make_jobs, app):
    executed, deleted = make_jobs({}, {})
    register(app, "w-dead", app.config["JOB_DEAD_WORKER_SECONDS"] + 1)
    for job in (executed, deleted):
        lock(app, job["id"], "w-dead")
    assert client.post(f"{BASE}/job/{executed['id']}/execute").status_code == 204
    assert client.delete(f"{BASE}/job/{deleted['id']}").status_code == 204
    assert client.get(f"{BASE}/job/{executed['id']}").status_code == 404
    assert client.get(f"{BASE}/job/{deleted['id']}").status_code == 404
