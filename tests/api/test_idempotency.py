"""``Idempotency-Key`` on POST /job/retries and POST /process-instance/job-retries (A20)."""

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.dates import utcnow
from app.extensions import db
from app.models import Batch, HistoricBatch, IdempotencyKey
from app.services.batches import idempotency
from tests.support import assert_400, drain_jobs

RETRIES = "/engine-rest/job/retries"
BY_PROCESS = "/engine-rest/process-instance/job-retries"


def count(app, model):
    with app.app_context():
        value = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return value


def post(client, path, body, key):
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def test_same_key_same_body_answers_the_same_batch(app, client, targets):
    ids = targets(3, retries=0)
    body = {"retries": 2, "jobIds": ids, "jobQuery": {"noRetriesLeft": True}}
    first = post(client, RETRIES, body, "k-1")
    assert first.status_code == 200
    # The same JSON with its properties in another order, and under the default engine's path.
    again = post(client, "/engine-rest/engine/default/job/retries", dict(reversed(list(body.items()))), "k-1")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert count(app, Batch) == 1 and count(app, HistoricBatch) == 1
    # Without a key every request is a new batch.
    assert client.post(RETRIES, json=body).get_json()["id"] != first.get_json()["id"]
    assert count(app, Batch) == 2


def test_same_key_other_body_is_a_422(app, client, targets):
    ids = targets(2, retries=0)
    first = post(client, RETRIES, {"retries": 2, "jobIds": ids}, "k-2").get_json()
    response = post(client, RETRIES, {"retries": 3, "jobIds": ids}, "k-2")
    assert response.status_code == 422
    assert response.get_json() == {
        "type": "InvalidRequestException", "code": None,
        "message": f"Idempotency-Key 'k-2' was already used for a different request within the last 24 hours "
                   f"(batch {first['id']}); send a new key with a new request"}
    # The same body on the other endpoint is another request too.
    both = {"retries": 2, "jobIds": ids, "processInstances": ["pi-x"]}
    assert post(client, RETRIES, both, "k-2b").status_code == 200
    assert post(client, BY_PROCESS, both, "k-2b").status_code == 422
    assert count(app, Batch) == 2


def test_keys_on_the_process_instance_endpoint(app, client, targets):
    targets(2, retries=0, processInstanceId="pi-1")
    body = {"retries": 1, "processInstances": ["pi-1"]}
    first = post(client, BY_PROCESS, body, "k-3")
    assert first.status_code == 200
    assert post(client, BY_PROCESS, body, "k-3").get_json() == first.get_json()
    assert post(client, BY_PROCESS, {**body, "retries": 2}, "k-3").status_code == 422
    assert count(app, Batch) == 1


def test_a_refused_request_does_not_use_the_key(app, client, targets):
    ids = targets(1, retries=0)
    assert_400(post(client, RETRIES, {"retries": 1, "jobQuery": {"jobId": "nope"}}, "k-4"), "jobIds is empty")
    assert count(app, IdempotencyKey) == 0
    assert post(client, RETRIES, {"retries": 1, "jobIds": ids}, "k-4").status_code == 200


def test_a_completed_batch_is_answered_from_its_history(app, client, targets):
    ids = targets(2, retries=0)
    body = {"retries": 1, "jobIds": ids}
    first = post(client, RETRIES, body, "k-5").get_json()
    with app.app_context():
        drain_jobs()
        db.session.remove()
    assert client.get(f"/engine-rest/batch/{first['id']}").status_code == 404
    again = post(client, RETRIES, body, "k-5")
    assert again.status_code == 200
    answer = again.get_json()
    assert answer["id"] == first["id"] and answer["jobsCreated"] == answer["totalJobs"] == 1
    assert answer["executionStartTime"] is not None and count(app, HistoricBatch) == 1


def test_a_deleted_batch_is_a_422(app, client, targets):
    ids = targets(1, retries=0)
    first = post(client, RETRIES, {"retries": 1, "jobIds": ids}, "k-6").get_json()
    assert client.delete(f"/engine-rest/batch/{first['id']}?cascade=true").status_code == 204
    response = post(client, RETRIES, {"retries": 1, "jobIds": ids}, "k-6")
    assert response.status_code == 422 and "has been deleted" in response.get_json()["message"]


def test_a_key_expires_after_the_ttl(app, client, targets):
    ids = targets(1, retries=0)
    first = post(client, RETRIES, {"retries": 1, "jobIds": ids}, "k-7").get_json()
    with app.app_context():
        expired = utcnow() - timedelta(hours=24, seconds=1)
        db.session.execute(update(IdempotencyKey.__table__).values(create_time=expired))
        db.session.commit()
        db.session.remove()
    second = post(client, RETRIES, {"retries": 2, "jobIds": ids}, "k-7")
    assert second.status_code == 200 and second.get_json()["id"] != first["id"]
    assert count(app, IdempotencyKey) == 1  # the expired row was deleted


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_an_unusable_key_is_a_400(app, client, targets, key):
    ids = targets(1, retries=0)
    assert_400(post(client, RETRIES, {"retries": 1, "jobIds": ids}, key),
               "Idempotency-Key must be 1 to 255 characters of text")
    assert count(app, Batch) == 0


def test_concurrent_duplicates_create_one_batch(app, live_server, targets):
    ids = targets(50, retries=0)
    body = json.dumps({"retries": 1, "jobIds": ids}).encode()
    start = threading.Barrier(4)
    answers = []

    def send():
        request = urllib.request.Request(f"{live_server}/job/retries", data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": "k-concurrent"})
        start.wait(timeout=10)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append((response.status, json.loads(response.read())["id"]))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.read().decode()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4 and {status for status, _ in answers} == {200}, answers
    assert len({batch_id for _, batch_id in answers}) == 1
    assert count(app, Batch) == 1 and count(app, IdempotencyKey) == 1


def test_a_duplicate_that_loses_the_race_answers_the_winners_batch(app, client, targets, monkeypatch):
    """The path of a request whose look-up ran before the other request committed: its own
    insert of the key fails, everything it wrote is rolled back, and it answers the winner's batch."""
    ids = targets(3, retries=0)
    body = {"retries": 1, "jobIds": ids}
    winner = post(client, RETRIES, body, "k-race").get_json()
    real_find = idempotency._find
    calls = []

    def find_late(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)

    monkeypatch.setattr(idempotency, "_find", find_late)
    loser = post(client, RETRIES, body, "k-race")
    assert len(calls) == 2  # the first look-up missed, the second found the winner's row
    assert loser.status_code == 200 and loser.get_json() == winner
    assert count(app, Batch) == 1 and count(app, HistoricBatch) == 1
    assert post(client, RETRIES, {**body, "retries": 2}, "k-race").status_code == 422
