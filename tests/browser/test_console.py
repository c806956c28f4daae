"""The operator console in headless Chromium, with authentication on (tests/browser/conftest.py).

Each step asserts what the page shows; each page is saved as a screenshot in build/screenshots/.
The preview, the outcome and the job log (issue 11's endpoints) are the tests at the end.
"""

import pytest
from selenium.webdriver.common.keys import Keys

from app.extensions import db
from app.services.identity import users
from tests.browser.conftest import ADMIN, Console
from tests.e2e.conftest import wait_for

BILLING = "Connection refused: billing.example.com:443"
SHIPPING = "Timeout after 30 s calling the shipping service"
TRACE = "java.net.ConnectException: Connection refused\n\tat billing.Client.send(Client.java:42)"


@pytest.fixture
def failed_jobs(client):
    """Three failed jobs (no retries left): two billing failures of activity ServiceTask_Bill in
    tenant tenant-a, one shipping failure of ServiceTask_Ship. Reviving them runs demo.noop."""
    common = {"handlerType": "demo.noop", "retries": 0, "processDefinitionKey": "order"}
    jobs = [
        {**common, "exceptionMessage": BILLING, "exceptionStacktrace": TRACE, "activityId": "ServiceTask_Bill",
         "failedActivityId": "ServiceTask_Bill", "tenantId": "tenant-a"},
        {**common, "exceptionMessage": BILLING, "exceptionStacktrace": TRACE, "activityId": "ServiceTask_Bill",
         "failedActivityId": "ServiceTask_Bill", "tenantId": "tenant-a"},
        {**common, "exceptionMessage": SHIPPING, "activityId": "ServiceTask_Ship",
         "failedActivityId": "ServiceTask_Ship", "tenantId": "tenant-b", "createTime": "2026-01-15T10:00:00.000+0000"},
    ]
    response = client.post("/api/jobs", json=jobs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def log_in(console, operator, page="failed-jobs"):
    console.open(page)
    console.wait_path("/console/login")
    console.login(*operator)
    console.wait_path(f"/console/{page}")
    console.wait_text("#who", f"Logged in as {ADMIN}")


def test_login_refuses_a_wrong_password_and_logging_out_forgets_the_credentials(console, operator):
    console.open("failed-jobs")
    console.wait_path("/console/login?")  # no credentials yet: the page sends the browser to log in
    console.wait_text("h1", "Log in")
    console.screenshot("login")

    console.login(ADMIN, "not-the-password")
    console.wait_text("#login-error", "The user name or password is not valid.")
    assert console.path().startswith("/console/login")
    console.screenshot("wrong-password")

    console.login(*operator)
    console.wait_path("/console/failed-jobs")  # back where the browser was sent from
    console.wait_text("#who", f"Logged in as {ADMIN}")
    console.wait_text("#jobs-status", "There are no failed jobs")

    console.click("#logout")
    console.wait_path("/console/login")
    console.wait_text("#logged-out", "You are logged out.")
    console.screenshot("logged-out")
    console.open("batches")
    console.wait_path("/console/login")  # the credentials are gone: every page asks again


def test_a_password_changed_elsewhere_ends_the_login(console, operator, console_app):
    log_in(console, operator, "batches")
    console.wait_text("#running-status", "No batch is running.")
    with console_app.app_context():
        users.set_password(ADMIN, "changed-elsewhere")
        db.session.commit()
        db.session.remove()
    console.open("batches")  # the next API call is a 401: the console forgets the old credentials
    console.wait_path("/console/login")
    console.wait_text("#logged-out", "Your login is no longer valid; log in again.")
    console.login(ADMIN, "changed-elsewhere")
    console.wait_path("/console/batches")


def test_failed_jobs_are_listed_filtered_and_shown_with_their_stack_trace(console, operator, failed_jobs):
    log_in(console, operator)
    console.wait_text("#job-count", "(3)")
    rows = console.wait_rows("#jobs", 3)
    assert sorted(row[1] for row in rows) == sorted([BILLING, BILLING, SHIPPING])
    console.screenshot("failed-jobs")

    console.type("#f-activity", "ServiceTask_Ship")
    console.find("#f-activity").send_keys(Keys.ENTER)  # the filter form works from the keyboard
    console.wait_path("/console/failed-jobs?activity=ServiceTask_Ship")
    console.wait_text("#job-count", "(1)")
    assert [row[1] for row in console.wait_rows("#jobs", 1)] == [SHIPPING]

    console.type("#f-activity", "NoSuchActivity")
    console.click("#apply")
    console.wait_text("#jobs-status", "No failed job matches these filters.")

    console.open("failed-jobs?before=2026-06-01T00:00")  # the create time range (the browser's zone)
    console.wait_text("#job-count", "(1)")
    assert [row[1] for row in console.wait_rows("#jobs", 1)] == [SHIPPING]
    assert console.find("#f-before").get_attribute("value").startswith("2026-06-01T00:00")
    console.open("failed-jobs?after=2026-06-01T00:00")
    console.wait_text("#job-count", "(2)")

    console.open("revive")  # no selection: a sentence, no form
    console.wait_text("#selection", "No jobs are selected")
    assert not console.find("#revive-form").is_displayed()

    billing = next(job for job in failed_jobs if job["exceptionMessage"] == BILLING)
    console.open("failed-jobs?tenant=tenant-a")
    console.wait_text("#job-count", "(2)")
    console.find(f"#jobs a[href$='/jobs/{billing['id']}']").click()
    console.wait_path(f"/console/jobs/{billing['id']}")
    console.wait_text("#job-fields [data-field=exceptionMessage]", BILLING)
    console.wait_text("#stacktrace", "java.net.ConnectException: Connection refused")
    assert "Client.java:42" in console.visible_text("#stacktrace")
    console.screenshot("job-detail")
    console.click("#revive-job")  # one job: the revive page selects it by id
    console.wait_path("/console/revive")
    console.wait_text("#selection", f"job {billing['id']}")
    console.wait_text("#confirm-text", "Set the retries of")

    console.open("jobs/no-such-job")
    console.wait_text("#job-status", "no-such-job")  # the API's 404 message, as a sentence
    assert "Traceback" not in console.find("body").text


def test_revive_creates_a_batch_that_a_worker_completes(console, operator, failed_jobs, start_worker):
    start_worker()
    log_in(console, operator, "failed-jobs?tenant=tenant-a")
    console.wait_text("#job-count", "(2)")
    console.click("#revive-all")

    console.wait_path("/console/revive")
    console.wait_text("#selection", "tenant tenant-a")
    console.wait_text("#preview-count", "2 jobs")  # from the preview, or POST /job/count without it
    console.type("#retries", "2")
    console.wait_text("#confirm-text", "Set the retries of 2 jobs to 2")
    console.screenshot("revive")
    console.click("#confirm")

    console.wait_path("/console/batches/")
    batch_id = console.path().rsplit("/", 1)[1]
    console.wait_text("#batch-state", "Completed", timeout=90)
    console.wait_text("#progress-text", "batch jobs done (100 %)")
    assert console.find("#batch-actions").is_displayed() is False
    console.screenshot("batch-completed")

    console.open("batches")
    console.wait_text("#running-status", "No batch is running.")
    history = console.wait_rows("#history", 1)
    assert [row[0] for row in history] == [batch_id]
    assert history[0][1] == "set-job-retries" and history[0][4] != "running"
    console.screenshot("batches")

    console.open("failed-jobs")
    console.wait_text("#job-count", "(1)")  # the two billing jobs ran and are gone
    assert [row[1] for row in console.wait_rows("#jobs", 1)] == [SHIPPING]


def test_a_running_batch_is_suspended_activated_and_deleted(console, operator, failed_jobs, client):
    # No worker: the batch stays running while the page works on it.
    created = client.post("/engine-rest/job/retries", json={"jobIds": [failed_jobs[0]["id"]], "retries": 1})
    assert created.status_code == 200, created.get_json()
    batch_id = created.get_json()["id"]
    log_in(console, operator, "batches")
    console.wait_text(f"#running tr[data-batch-id='{batch_id}']", "running")
    console.click(f"#running tr[data-batch-id='{batch_id}'] button")  # Suspend
    console.wait_text(f"#running tr[data-batch-id='{batch_id}']", "suspended")
    assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["suspended"] is True
    console.screenshot("suspended")

    console.click(f"#running tr[data-batch-id='{batch_id}'] button")  # Activate
    console.wait_text(f"#running tr[data-batch-id='{batch_id}']", "running")
    assert client.get(f"/engine-rest/batch/{batch_id}").get_json()["suspended"] is False

    console.open(f"batches/{batch_id}")
    console.wait_text("#batch-state", "Running")
    console.click("#delete")
    console.driver.switch_to.alert.accept()
    console.wait_path("/console/batches")
    console.wait_text("#running-status", "No batch is running.")
    assert client.get(f"/engine-rest/batch/{batch_id}").status_code == 404


def test_workers_page_shows_the_live_worker(console, operator, start_worker):
    start_worker()
    log_in(console, operator, "workers")
    text = console.wait_text("#workers tbody", "alive", timeout=30)
    assert "none" in text  # holds no job
    console.screenshot("workers")


def test_an_operator_without_permission_reads_the_refusal_as_a_sentence(console, operator, console_app):
    with console_app.app_context():
        users.create_user(None, {"id": "viewer"}, "viewer-pw")
        db.session.remove()
    console.open("workers")
    console.login("viewer", "viewer-pw")
    console.wait_path("/console/workers")
    console.wait_text("#workers-status", "viewer")  # Camunda's 403 message names the user
    assert "SYSTEM" in console.visible_text("#workers-status") or "System" in console.visible_text("#workers-status")


# --- issue 11: preview, message filter, outcome, job log -----------------------------------------

def test_failed_jobs_are_grouped_filtered_by_message_and_previewed(console, operator, failed_jobs):
    log_in(console, operator)
    console.wait_text("#groups table[data-breakdown=byExceptionMessage]", BILLING)
    groups = {row[0]: row[1] for row in console.rows("#groups table[data-breakdown=byExceptionMessage]")}
    assert groups == {BILLING: "2", SHIPPING: "1"}
    tenants = {row[0]: row[1] for row in console.rows("#groups table[data-breakdown=byTenantId]")}
    assert tenants == {"tenant-a": "2", "tenant-b": "1"}
    console.screenshot("groups")
    console.find("#groups table[data-breakdown=byActivityId] a:not(.button)[aria-label$='ServiceTask_Ship']").click()
    console.wait_path("/console/failed-jobs?activity=ServiceTask_Ship")
    console.wait_text("#job-count", "(1)")
    console.click("#clear")
    console.wait_text("#job-count", "(3)")

    console.type("#f-message", "billing")
    console.click("#apply")
    console.wait_text("#job-count", "(2)")
    assert [row[1] for row in console.wait_rows("#jobs", 2)] == [BILLING, BILLING]
    assert console.visible_text("#filter-note") is None  # the server filtered by message
    console.click("#revive-all")
    console.wait_path("/console/revive")
    console.wait_text("#preview-count", "2 jobs will get new retries.")
    assert {row[0]: row[1] for row in console.rows("#preview-breakdown table[data-breakdown=byExceptionMessage]")} \
        == {BILLING: "2"}
    console.screenshot("preview")


def test_the_batch_page_shows_the_outcome_with_the_new_failures(console, operator, client, start_worker):
    """The batch ends when its slice has set the retries; the revived jobs run after that (one
    of them takes seconds here), so the page keeps reading the outcome until nothing is pending."""
    failing = client.post("/api/jobs", json=[
        {"handlerType": "demo.fail-until", "retries": 0, "handlerConfiguration": {"message": "still broken"},
         "exceptionMessage": "broken"},
        {"handlerType": "demo.sleep", "retries": 0, "handlerConfiguration": {"seconds": 4},
         "exceptionMessage": "broken"},
    ])
    assert failing.status_code == 201
    start_worker()
    log_in(console, operator)
    console.wait_text("#job-count", "(2)")
    console.click("#revive-all")
    console.wait_path("/console/revive")
    console.type("#retries", "1")
    console.click("#confirm")
    console.wait_path("/console/batches/")
    console.wait_text("#batch-state", "Completed", timeout=90)
    wait_for(lambda: console.visible_text("#outcome [data-outcome=pending]") == "0", timeout=60,
             message="the outcome to have nothing pending")
    assert console.visible_text("#outcome [data-outcome=succeeded]") == "1"
    assert console.visible_text("#outcome [data-outcome=failedAgain]") == "1"
    failures = console.rows("#failures")
    assert len(failures) == 1 and "still broken" in failures[0][0] and failures[0][1] == "1"
    console.screenshot("outcome")


def test_the_job_page_shows_the_job_log(console, operator, failed_jobs):
    log_in(console, operator, f"jobs/{failed_jobs[0]['id']}")
    wait_for(lambda: console.visible_text("#job-log") or console.visible_text("#log-status"), timeout=20,
             message="the job log or its status")
    console.screenshot("job-log")
    assert console.visible_text("#log-status") is None, console.visible_text("#log-status")
    assert console.rows("#job-log"), "the job log of a job that exists has at least its creation"


def test_with_authentication_off_the_console_needs_no_login(driver, live_server, failed_jobs):
    """``make run``'s default: authentication off, the pages work at once and say so."""
    root = live_server.rsplit("/engine-rest", 1)[0]
    page = Console(driver, root, "auth-off")  # another origin: no credentials stored for it
    page.open("failed-jobs")
    page.wait_text("#who", "Authentication is off")
    page.wait_text("#job-count", "(3)")
    assert page.path().startswith("/console/failed-jobs")
    page.open("login")
    page.wait_text("#auth-off", "Authentication is off on this server")
    assert not page.find("#login-form").is_displayed()
