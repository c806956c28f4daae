"""The user operation log over HTTP (C.9, spec A17): which operations write which entries, in
their transaction and only for an authenticated user; ``GET /history/user-operation`` with its
filters, paging and permissions; annotations and deletion."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.tables import operation_log_table
from app.services import audit
from tests.security.conftest import ADMIN, BASE, add_user, basic

LOG = f"{BASE}/history/user-operation"
PLAIN = basic("plain", "pw")


def entries(client, headers, **params):
    response = client.get(LOG, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def changes(rows):
    """``{property: (orgValue, newValue)}`` of one operation's rows."""
    return {row["property"]: (row["orgValue"], row["newValue"]) for row in rows}


def stored_entries(app):
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(operation_log_table))
        db.session.remove()
    return count


def make_job(client, headers, **fields):
    response = client.post("/api/jobs", json=[{"handlerType": "demo.noop", **fields}], headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()[0]


def millis(iso):
    return str(int((datetime.fromisoformat(iso[:23]) - datetime(1970, 1, 1)).total_seconds() * 1000))


def test_set_retries_writes_one_operation_with_the_old_and_new_values(secure_client, admin):
    job = make_job(secure_client, admin, retries=3, processDefinitionKey="invoice", jobDefinitionId="jd-1")
    response = secure_client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 4}, headers=admin)
    assert response.status_code == 204
    rows = entries(secure_client, admin)
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == [
        "id", "deploymentId", "processDefinitionId", "processDefinitionKey", "processInstanceId", "executionId",
        "caseDefinitionId", "caseInstanceId", "caseExecutionId", "taskId", "jobId", "jobDefinitionId", "batchId",
        "userId", "timestamp", "operationId", "externalTaskId", "operationType", "entityType", "property",
        "orgValue", "newValue", "removalTime", "rootProcessInstanceId", "category", "annotation"]
    assert (row["operationType"], row["entityType"], row["category"], row["userId"]) == (
        "SetJobRetries", "Job", "Operator", ADMIN)
    assert (row["jobId"], row["jobDefinitionId"], row["processDefinitionKey"]) == (job["id"], "jd-1", "invoice")
    assert (row["property"], row["orgValue"], row["newValue"]) == ("retries", "3", "4")


def test_single_job_operations_write_camundas_entries(secure_client, admin):
    job = make_job(secure_client, admin, priority=0)
    job_url = f"{BASE}/job/{job['id']}"
    due = "2030-01-02T03:04:05.678+0000"
    assert secure_client.put(f"{job_url}/duedate", json={"duedate": due}, headers=admin).status_code == 204
    assert secure_client.put(f"{job_url}/priority", json={"priority": 42}, headers=admin).status_code == 204
    assert secure_client.put(f"{job_url}/suspended", json={"suspended": True}, headers=admin).status_code == 204
    assert secure_client.put(f"{job_url}/suspended", json={"suspended": False}, headers=admin).status_code == 204
    assert secure_client.post(f"{job_url}/execute", headers=admin).status_code == 204
    rows = entries(secure_client, admin, jobId=job["id"])
    by_type = {row["operationType"]: row for row in rows}
    assert [row["operationType"] for row in rows] == [
        "SetDueDate", "SetPriority", "SuspendJob", "ActivateJob", "Execute"]  # default order: as written
    assert changes([by_type["SetDueDate"]]) == {"duedate": (None, millis("2030-01-02T03:04:05.678"))}
    assert changes([by_type["SetPriority"]]) == {"priority": ("0", "42")}
    assert changes([by_type["SuspendJob"]]) == {"suspensionState": (None, "suspended")}
    assert changes([by_type["ActivateJob"]]) == {"suspensionState": (None, "active")}
    assert changes([by_type["Execute"]]) == {None: (None, None)}
    assert len({row["operationId"] for row in rows}) == 5

    other = make_job(secure_client, admin)
    assert secure_client.delete(f"{BASE}/job/{other['id']}", headers=admin).status_code == 204
    deleted = entries(secure_client, admin, jobId=other["id"])
    assert [(row["operationType"], row["entityType"], row["property"]) for row in deleted] == [("Delete", "Job", None)]


def test_operations_in_the_same_microsecond_or_after_the_clock_stepped_back_keep_their_order(
        secure_client, admin, monkeypatch):
    """The default order (by id) is the order written even when the clock does not move on
    between two requests or steps back: a stalled clock once ordered two requests of the same
    millisecond by the random part of their ids."""
    readings = iter([5_000_000, 5_000_000, 5_000_000, 4_000_000, 4_000_000, 5_000_000])
    monkeypatch.setattr(audit, "time", SimpleNamespace(time_ns=lambda: next(readings) * 1000))
    job = make_job(secure_client, admin, priority=0)
    for priority in range(1, 7):
        response = secure_client.put(f"{BASE}/job/{job['id']}/priority", json={"priority": priority},
                                     headers=admin)
        assert response.status_code == 204
    rows = entries(secure_client, admin, jobId=job["id"])
    assert [row["newValue"] for row in rows] == ["1", "2", "3", "4", "5", "6"]


def test_retries_with_a_due_date_log_both_properties_as_milliseconds(secure_client, admin):
    job = make_job(secure_client, admin, retries=0, dueDate="2029-01-01T00:00:00.000+0000")
    body = {"retries": 2, "dueDate": "2031-01-01T00:00:00.000+0000"}
    assert secure_client.put(f"{BASE}/job/{job['id']}/retries", json=body, headers=admin).status_code == 204
    rows = entries(secure_client, admin)
    assert changes(rows) == {"retries": ("0", "2"),
                             "dueDate": (millis("2029-01-01T00:00:00.000"), millis("2031-01-01T00:00:00.000"))}
    assert len({row["operationId"] for row in rows}) == 1


def test_a_failed_execute_and_refused_or_failing_operations_write_nothing(secure_client, secure_app, admin):
    job = make_job(secure_client, admin, handlerType="demo.fail-until")
    assert secure_client.post(f"{BASE}/job/{job['id']}/execute", headers=admin).status_code == 500
    assert secure_client.put(f"{BASE}/job/nope/retries", json={"retries": 1}, headers=admin).status_code == 404
    assert secure_client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": -1},
                             headers=admin).status_code == 400
    assert secure_client.delete(f"{BASE}/batch/nope", headers=admin).status_code == 400
    add_user(secure_app, "plain", "pw")
    assert secure_client.post(f"{BASE}/user/create", json={"profile": {"id": "x"}}, headers=PLAIN).status_code == 403
    assert stored_entries(secure_app) == 0


def test_bulk_operations_write_one_operation_not_one_per_job(secure_client, admin):
    jobs = [make_job(secure_client, admin, jobDefinitionId="jd-bulk", retries=0) for _ in range(3)]
    response = secure_client.put(f"{BASE}/job/suspended", json={"jobDefinitionId": "jd-bulk", "suspended": True},
                                 headers=admin)
    assert response.status_code == 204
    response = secure_client.put(f"{BASE}/job-definition/jd-bulk/retries", json={"retries": 5}, headers=admin)
    assert response.status_code == 204
    response = secure_client.post(f"{BASE}/job/retries", json={"jobIds": [job["id"] for job in jobs], "retries": 2},
                                  headers=admin)
    assert response.status_code == 200
    rows = entries(secure_client, admin)
    suspend, by_definition, batch = ([row for row in rows if row["operationId"] == operation]
                                     for operation in dict.fromkeys(row["operationId"] for row in rows))
    assert [(row["operationType"], row["jobDefinitionId"], row["jobId"]) for row in suspend] == [
        ("SuspendJob", "jd-bulk", None)]
    assert [(row["operationType"], row["jobDefinitionId"], row["jobId"]) for row in by_definition] == [
        ("SetJobRetries", "jd-bulk", None)]
    assert changes(by_definition) == {"retries": (None, "5")}
    assert {(row["operationType"], row["entityType"], row["jobId"], row["batchId"]) for row in batch} == {
        ("SetJobRetries", "Job", None, None)}
    assert changes(batch) == {"nrOfInstances": (None, "3"), "async": (None, "true"), "retries": (None, "2")}


def test_batch_suspension_and_deletion_are_logged_per_batch(secure_client, admin):
    job = make_job(secure_client, admin)
    batch = secure_client.post(f"{BASE}/job/retries", json={"jobIds": [job["id"]], "retries": 1},
                               headers=admin).get_json()
    for suspended in (True, False):
        assert secure_client.put(f"{BASE}/batch/{batch['id']}/suspended", json={"suspended": suspended},
                                 headers=admin).status_code == 204
    assert secure_client.delete(f"{BASE}/batch/{batch['id']}", headers=admin).status_code == 204
    assert secure_client.delete(f"{BASE}/history/batch/{batch['id']}", headers=admin).status_code == 204
    rows = entries(secure_client, admin, batchId=batch["id"])
    assert [(row["operationType"], row["entityType"], row["property"], row["newValue"]) for row in rows] == [
        ("SuspendBatch", "Batch", "suspensionState", "suspended"),
        ("ActivateBatch", "Batch", "suspensionState", "active"),
        ("Delete", "Batch", "cascadeToHistory", "false"),
        ("DeleteHistory", "Batch", None, None),
    ]


def test_identity_changes_are_logged_in_the_admin_category(secure_client, admin):
    assert secure_client.post(f"{BASE}/user/create", json={"profile": {"id": "bob"}, "credentials": {
        "password": "pw"}}, headers=admin).status_code == 204
    assert secure_client.post(f"{BASE}/group/create", json={"id": "ops"}, headers=admin).status_code == 204
    assert secure_client.put(f"{BASE}/group/ops/members/bob", headers=admin).status_code == 204
    assert secure_client.post(f"{BASE}/tenant/create", json={"id": "t1"}, headers=admin).status_code == 204
    assert secure_client.put(f"{BASE}/tenant/t1/user-members/bob", headers=admin).status_code == 204
    created = secure_client.post(f"{BASE}/authorization/create", json={
        "type": 1, "permissions": ["READ"], "userId": "bob", "resourceType": 13, "resourceId": "*"}, headers=admin)
    assert created.status_code == 200
    assert secure_client.delete(f"{BASE}/user/bob", headers=admin).status_code == 204
    rows = entries(secure_client, admin, categoryIn="Admin")
    assert {row["category"] for row in rows} == {"Admin"}
    operations = [(row["operationType"], row["entityType"]) for row in rows]
    assert list(dict.fromkeys(operations)) == [
        ("Create", "User"), ("Create", "Group"), ("Create", "Group membership"), ("Create", "Tenant"),
        ("Create", "TenantMembership"), ("Create", "Authorization"), ("Delete", "User")]
    membership = [row for row in rows if row["entityType"] == "Group membership"]
    assert changes(membership) == {"userId": (None, "bob"), "groupId": (None, "ops")}
    authorization = changes([row for row in rows if row["entityType"] == "Authorization"])
    assert authorization["permissions"] == (None, "[READ]")
    assert authorization["resource"] == (None, "Batch")
    assert authorization["userId"] == (None, "bob")
    assert "groupId" not in authorization
    assert entries(secure_client, admin, entityType="User", operationType="Delete")[0]["newValue"] == "bob"


def test_no_entry_without_an_authenticated_user(client, app):
    job = client.post("/api/jobs", json=[{"handlerType": "demo.noop"}]).get_json()[0]
    assert client.put(f"{BASE}/job/{job['id']}/retries", json={"retries": 4}).status_code == 204
    assert stored_entries(app) == 0
    assert client.get(f"{LOG}/count").get_json() == {"count": 0}


def test_filters_paging_and_sorting(secure_client, admin):
    first = make_job(secure_client, admin)
    second = make_job(secure_client, admin)
    for job in (first, second):
        secure_client.put(f"{BASE}/job/{job['id']}/priority", json={"priority": 7}, headers=admin)
    secure_client.put(f"{BASE}/job/{first['id']}/retries", json={"retries": 9}, headers=admin)
    everything = entries(secure_client, admin)
    assert len(everything) == 3
    assert secure_client.get(f"{LOG}/count", headers=admin).get_json() == {"count": 3}
    assert len(entries(secure_client, admin, jobId=first["id"])) == 2
    assert len(entries(secure_client, admin, operationType="SetPriority")) == 2
    assert len(entries(secure_client, admin, property="retries")) == 1
    assert len(entries(secure_client, admin, entityTypeIn="Job,Batch")) == 3
    assert entries(secure_client, admin, entityTypeIn="Batch") == []
    assert entries(secure_client, admin, userId="someone-else") == []
    assert entries(secure_client, admin, taskId="x") == []  # no tasks here: matches nothing
    operation = everything[0]["operationId"]
    assert [row["id"] for row in entries(secure_client, admin, operationId=operation)] == [everything[0]["id"]]
    later = (datetime.utcnow() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    earlier = (datetime.utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert len(entries(secure_client, admin, afterTimestamp=earlier, beforeTimestamp=later)) == 3
    assert entries(secure_client, admin, afterTimestamp=later) == []
    # afterTimestamp is strict: an entry's own timestamp excludes it
    assert everything[0]["id"] not in [row["id"] for row in entries(
        secure_client, admin, afterTimestamp=everything[0]["timestamp"])]
    newest_first = entries(secure_client, admin, sortBy="timestamp", sortOrder="desc")
    assert [row["timestamp"] for row in newest_first] == sorted((row["timestamp"] for row in everything),
                                                                reverse=True)
    assert [row["id"] for row in entries(secure_client, admin, firstResult=1, maxResults=1)] == [everything[1]["id"]]
    assert secure_client.get(f"{LOG}/count", query_string={"jobId": second["id"]},
                             headers=admin).get_json() == {"count": 1}


@pytest.mark.parametrize("params, message", [
    ({"sortBy": "operationType", "sortOrder": "asc"}, "Cannot set query parameter 'sortBy' to value 'operationType'"),
    ({"sortBy": "timestamp"}, "Only a single sorting parameter specified. sortBy and sortOrder required"),
    ({"afterTimestamp": "yesterday"}, "Cannot set query parameter 'afterTimestamp' to value 'yesterday'"),
    ({"maxResults": "-1"}, "Cannot set query parameter 'maxResults' to value '-1'"),
])
def test_bad_query_parameters_are_400(secure_client, admin, params, message):
    response = secure_client.get(LOG, query_string=params, headers=admin)
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "InvalidRequestException"
    assert body["message"].startswith(message)


def test_reading_needs_the_category_or_the_process_definitions_history(secure_client, secure_app, admin):
    add_user(secure_app, "plain", "pw")
    make_job(secure_client, admin, processDefinitionKey="invoice")
    job = make_job(secure_client, admin)
    secure_client.put(f"{BASE}/job/{job['id']}/priority", json={"priority": 1}, headers=admin)
    invoice_job = entries(secure_client, admin)  # nothing logged for the ingest itself
    assert invoice_job and all(row["processDefinitionKey"] is None for row in invoice_job)
    secure_client.put(f"{BASE}/job/suspended", json={"processDefinitionKey": "invoice", "suspended": True},
                      headers=admin)
    assert secure_client.get(f"{LOG}/count", headers=PLAIN).get_json() == {"count": 0}
    assert entries(secure_client, PLAIN) == []

    def grant(resource_type, resource_id, permission):
        response = secure_client.post(f"{BASE}/authorization/create", json={
            "type": 1, "permissions": [permission], "userId": "plain", "resourceType": resource_type,
            "resourceId": resource_id}, headers=admin)
        assert response.status_code == 200, response.get_json()

    grant(6, "invoice", "READ_HISTORY")  # PROCESS_DEFINITION: the entries of that key
    assert [row["processDefinitionKey"] for row in entries(secure_client, PLAIN)] == ["invoice"]
    grant(17, "Operator", "READ")  # OPERATION_LOG_CATEGORY Operator: every operator entry
    assert {row["category"] for row in entries(secure_client, PLAIN)} == {"Operator"}
    assert secure_client.get(f"{LOG}/count", headers=PLAIN).get_json() == {"count": 2}
    admin_count = secure_client.get(f"{LOG}/count", headers=admin).get_json()["count"]
    assert admin_count > 2  # the Admin entries of the two grants stay hidden from plain


def test_annotations_mark_every_entry_of_the_operation_and_are_logged(secure_client, admin):
    job = make_job(secure_client, admin, retries=0)
    body = {"retries": 1, "dueDate": None}
    secure_client.put(f"{BASE}/job/{job['id']}/retries", json=body, headers=admin)
    operation = entries(secure_client, admin)[0]["operationId"]
    response = secure_client.put(f"{LOG}/{operation}/set-annotation", json={"annotation": "ticket 42"},
                                 headers=admin)
    assert response.status_code == 204
    annotated = entries(secure_client, admin, operationId=operation)
    assert len(annotated) == 2 and {row["annotation"] for row in annotated} == {"ticket 42"}
    logged = entries(secure_client, admin, entityType="OperationLog")
    assert [(row["operationType"], row["property"], row["newValue"]) for row in logged] == [
        ("SetAnnotation", "operationId", operation)]
    assert secure_client.put(f"{LOG}/{operation}/clear-annotation", headers=admin).status_code == 204
    assert {row["annotation"] for row in entries(secure_client, admin, operationId=operation)} == {None}
    assert [row["operationType"] for row in entries(secure_client, admin, entityType="OperationLog")] == [
        "SetAnnotation", "ClearAnnotation"]
    unknown = secure_client.put(f"{LOG}/nope/set-annotation", json={"annotation": "x"}, headers=admin)
    assert unknown.status_code == 400
    assert unknown.get_json() == {"type": "BadUserRequestException", "message": "operation is null", "code": 0}
    too_long = secure_client.put(f"{LOG}/{operation}/set-annotation", json={"annotation": "x" * 4001},
                                 headers=admin)
    assert too_long.status_code == 400


def test_deleting_an_entry_needs_delete_permission(secure_client, secure_app, admin):
    add_user(secure_app, "plain", "pw")
    job = make_job(secure_client, admin)
    secure_client.put(f"{BASE}/job/{job['id']}/priority", json={"priority": 3}, headers=admin)
    entry = entries(secure_client, admin, jobId=job["id"])[0]
    refused = secure_client.delete(f"{LOG}/{entry['id']}", headers=PLAIN)
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "AuthorizationException"
    assert len(entries(secure_client, admin, jobId=job["id"])) == 1
    assert secure_client.delete(f"{LOG}/{entry['id']}", headers=admin).status_code == 204
    assert entries(secure_client, admin, jobId=job["id"]) == []
    assert secure_client.delete(f"{LOG}/{entry['id']}", headers=admin).status_code == 204  # gone: a no-op
