"""The operator console's access rules (decision A23), with authentication on.

The page shells are served without credentials and hold no data; ``GET /api/workers`` needs
credentials and READ on SYSTEM (members of camunda-admin always pass).
"""

from datetime import timedelta

import pytest

from app.core.dates import utcnow
from app.services.executor import workers
from tests.security.conftest import BASE, add_user, basic
from tests.support import set_job_columns

CONSOLE_PAGES = ("/console/login", "/console/failed-jobs", "/console/revive", "/console/batches",
                 "/console/workers", "/console/jobs/JOB-SECRET", "/console/batches/BATCH-SECRET")


@pytest.fixture
def job_of_worker(secure_app, admin, secure_client):
    """A job with a secret message, locked by a registered worker, and a second, dead worker."""
    created = secure_client.post("/api/jobs", headers=admin, json=[
        {"handlerType": "demo.noop", "retries": 0, "exceptionMessage": "SECRET-MESSAGE"}])
    assert created.status_code == 201
    job_id = created.get_json()[0]["id"]
    with secure_app.app_context():
        workers.heartbeat("host-a:1:live")
        workers.heartbeat("host-b:2:dead", now=utcnow() - timedelta(minutes=5))
    set_job_columns(secure_app, job_id, lock_owner="host-a:1:live",
                    lock_expiration_time=utcnow() + timedelta(minutes=5))
    return job_id


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_load_without_credentials_and_hold_no_data(secure_client, job_of_worker, path):
    response = secure_client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "jobservice console" in page
    assert 'data-auth="on"' in page  # the scripts send to the login page without credentials
    for secret in ("SECRET-MESSAGE", job_of_worker, "host-a"):
        assert secret not in page


def test_console_assets_are_local_and_served_without_credentials(secure_client):
    page = secure_client.get("/console/failed-jobs").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page  # no CDN: every asset is ours
    script = secure_client.get("/console/static/js/pages/failed_jobs.js")
    assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")
    assert secure_client.get("/console/static/css/console.css").status_code == 200


def test_console_pages_allow_only_their_own_scripts(secure_client):
    response = secure_client.get("/console/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script to allow


def test_the_console_root_leads_to_the_failed_jobs_and_unknown_pages_are_404(secure_client):
    assert secure_client.get("/console/").headers["Location"].endswith("/console/failed-jobs")
    missing = secure_client.get("/console/no-such-page")
    assert missing.status_code == 404
    assert missing.get_json()["type"] == "NotFoundException"


def test_workers_need_credentials(secure_client, job_of_worker):
    response = secure_client.get("/api/workers")
    assert response.status_code == 401
    assert "host-a" not in response.get_data(as_text=True)


def test_workers_need_read_on_system(secure_app, secure_client, admin, job_of_worker):
    add_user(secure_app, "viewer", "viewer-pw")
    viewer = basic("viewer", "viewer-pw")
    refused = secure_client.get("/api/workers", headers=viewer)
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["type"] == "AuthorizationException"
    assert "viewer" in body["message"] and "READ" in body["message"]
    assert "host-a" not in refused.get_data(as_text=True)

    granted = secure_client.post(f"{BASE}/authorization/create", headers=admin, json={
        "type": 1, "userId": "viewer", "resourceType": 21, "resourceId": "*", "permissions": ["READ"]})
    assert granted.status_code == 200, granted.get_json()
    assert secure_client.get("/api/workers", headers=viewer).status_code == 200


def test_workers_show_heartbeat_liveness_and_held_jobs(secure_client, admin, job_of_worker):
    response = secure_client.get("/api/workers", headers=admin)
    assert response.status_code == 200
    listed = {worker["id"]: worker for worker in response.get_json()}
    assert set(listed) == {"host-a:1:live", "host-b:2:dead"}
    live, dead = listed["host-a:1:live"], listed["host-b:2:dead"]
    assert (live["alive"], live["heldJobCount"], live["heldJobIds"]) == (True, 1, [job_of_worker])
    assert (dead["alive"], dead["heldJobCount"], dead["heldJobIds"]) == (False, 0, [])
    assert live["hostname"] and isinstance(live["pid"], int)
    assert live["heartbeatAt"].endswith("+0000") and live["startedAt"]
