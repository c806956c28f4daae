"""An ``Idempotency-Key`` belongs to the user who sent it (A20): another user's equal key is
another key."""

from tests.security.conftest import ADMIN, ADMIN_PASSWORD, add_user, basic


def test_keys_are_per_user(secure_app, secure_client, admin):
    add_user(secure_app, "ops2", "pw2", admin=True)
    other = basic("ops2", "pw2")
    created = secure_client.post("/api/jobs", json=[{"handlerType": "test.batch-target", "retries": 0}],
                                 headers=admin)
    assert created.status_code == 201
    body = {"retries": 1, "jobIds": [created.get_json()[0]["id"]]}

    def send(headers):
        response = secure_client.post("/engine-rest/job/retries", json=body,
                                      headers={**headers, "Idempotency-Key": "shared"})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["id"]

    mine = send(basic(ADMIN, ADMIN_PASSWORD))
    assert send(admin) == mine
    assert send(other) != mine
    assert send(other) == send(other)
