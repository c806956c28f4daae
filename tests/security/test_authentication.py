"""HTTP Basic on every route (C.6): what a missing, malformed or wrong credential gets, that no
route escapes it, that unknown users cost the same as wrong passwords, and the credential cache."""

import base64
import logging
import statistics
import time

import pytest
from sqlalchemy import func, select

from app.api.auth import MALFORMED, MISSING, PUBLIC_ENDPOINTS, REFUSED
from app.extensions import db
from app.models.tables import job_table, user_table
from app.services import auth
from app.services.auth import CredentialCache
from app.services.identity import passwords
from tests.security.conftest import ADMIN, ADMIN_PASSWORD, BASE, add_user, basic


def assert_401(response, message):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="default"'
    assert response.get_json() == {"type": "InvalidRequestException", "message": message, "code": None}


def raw(header_value):
    return {"Authorization": header_value}


def test_no_credentials_is_401_with_a_basic_challenge(secure_client):
    assert_401(secure_client.get(f"{BASE}/job/count"), MISSING)


@pytest.mark.parametrize("header", [
    "Digest username=alice",                               # another scheme
    "basic " + base64.b64encode(b"alice:pw").decode(),     # the scheme is case-sensitive, as Camunda's
    "Basic " + base64.b64encode(b"alice-no-colon").decode(),
    "Basic not*base64!",
    "Basic " + base64.b64encode(b"\xff\xfe:pw").decode(),  # not UTF-8
    "Basic",
])
def test_malformed_authorization_headers_are_401(secure_client, admin, header):
    assert_401(secure_client.get(f"{BASE}/job/count", headers=raw(header)), MALFORMED)


def test_unknown_user_and_wrong_password_get_the_same_answer(secure_client, secure_app):
    add_user(secure_app, "alice", "right")
    wrong_password = secure_client.get(f"{BASE}/job/count", headers=basic("alice", "wrong"))
    unknown_user = secure_client.get(f"{BASE}/job/count", headers=basic("nobody", "wrong"))
    assert_401(wrong_password, REFUSED)
    assert_401(unknown_user, REFUSED)
    assert wrong_password.get_data() == unknown_user.get_data()


@pytest.mark.parametrize("user, password", [("", "pw"), ("a" * 65, "pw"), ("alice", "p" * 1025), ("alice", "")])
def test_empty_and_overlong_credentials_are_401(secure_client, secure_app, user, password):
    add_user(secure_app, "alice", "right")
    assert_401(secure_client.get(f"{BASE}/job/count", headers=basic(user, password)), REFUSED)


def test_a_user_without_a_password_cannot_log_in(secure_client, secure_app):
    add_user(secure_app, "nopass", None)
    assert_401(secure_client.get(f"{BASE}/job/count", headers=basic("nopass", "")), REFUSED)
    assert_401(secure_client.get(f"{BASE}/job/count", headers=basic("nopass", "anything")), REFUSED)


def test_valid_credentials_reach_both_base_paths_and_the_extensions(secure_client, admin):
    for path in (f"{BASE}/job/count", f"{BASE}/engine/default/job/count"):
        response = secure_client.get(path, headers=admin)
        assert response.status_code == 200 and response.get_json() == {"count": 0}
    created = secure_client.post("/api/jobs", json=[{"handlerType": "demo.noop"}], headers=admin)
    assert created.status_code == 201


def test_the_password_is_split_at_the_first_colon(secure_client, secure_app):
    add_user(secure_app, "colon", "pa:ss:word")
    assert secure_client.get(f"{BASE}/job/count", headers=basic("colon", "pa:ss:word")).status_code == 200


def test_unknown_paths_and_methods_are_401_before_404_or_405(secure_client, admin):
    assert_401(secure_client.get(f"{BASE}/no-such-resource"), MISSING)
    assert_401(secure_client.patch(f"{BASE}/job/count"), MISSING)
    assert secure_client.get(f"{BASE}/no-such-resource", headers=admin).status_code == 404
    assert secure_client.patch(f"{BASE}/job/count", headers=admin).status_code == 405


def test_no_route_is_served_without_authentication(secure_app, secure_client):
    """Every rule of the URL map, every method it allows: 401 without credentials.

    A new blueprint or route is covered by this test without being listed anywhere; only the
    endpoints in PUBLIC_ENDPOINTS (health checks) may answer without credentials.
    """
    adapter = secure_app.url_map.bind("localhost")
    checked = []
    for rule in secure_app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods):
            path = adapter.build(rule.endpoint, {name: "x" for name in rule.arguments}, method=method)
            response = secure_client.open(path, method=method, json={})
            assert response.status_code == 401, (method, path)
            checked.append((method, rule.rule))
    # Both base paths of the Camunda resources, the identity resources and /api/jobs were seen.
    assert ("POST", "/engine-rest/job/retries") in checked
    assert ("POST", "/engine-rest/engine/default/user/create") in checked
    assert ("PUT", "/engine-rest/authorization/<authorization_id>") in checked
    assert ("POST", "/api/jobs") in checked
    assert len(checked) > 150


def test_a_refused_write_writes_nothing(secure_client, secure_app):
    response = secure_client.post("/api/jobs", json=[{"handlerType": "demo.noop"}],
                                  headers=basic("nobody", "pw"))
    assert response.status_code == 401
    with secure_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(job_table)) == 0
        db.session.remove()


def _count_verifications(monkeypatch):
    calls = []
    original = passwords.verify_password

    def counting(stored_hash, password):
        calls.append(stored_hash is None)
        return original(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return calls


def test_an_unknown_user_costs_one_hash_verification_like_a_known_one(secure_client, secure_app, monkeypatch):
    add_user(secure_app, "alice", "right")
    calls = _count_verifications(monkeypatch)
    secure_client.get(f"{BASE}/job/count", headers=basic("alice", "wrong"))
    secure_client.get(f"{BASE}/job/count", headers=basic("nobody", "wrong"))
    # One argon2 verification each: the real hash, then the dummy of the same cost.
    assert calls == [False, True]


def test_wrong_password_timing_does_not_tell_whether_the_user_exists(secure_app, secure_client, monkeypatch):
    """Interleaved samples with a hash cost that dwarfs the query: the medians agree."""
    monkeypatch.setitem(secure_app.config, "PASSWORD_HASH_MEMORY_KIB", 8192)
    add_user(secure_app, "alice", "right")
    samples = {"alice": [], "nobody": []}
    for _ in range(9):
        for user in samples:
            started = time.perf_counter()
            response = secure_client.get(f"{BASE}/job/count", headers=basic(user, "wrong"))
            samples[user].append(time.perf_counter() - started)
            assert response.status_code == 401
    known, unknown = statistics.median(samples["alice"]), statistics.median(samples["nobody"])
    # Without the dummy verification the unknown user would answer many times faster.
    assert 0.5 < unknown / known < 2.0, samples


def test_a_verified_credential_is_cached(secure_client, secure_app, monkeypatch):
    add_user(secure_app, "alice", "right")
    calls = _count_verifications(monkeypatch)
    for _ in range(3):
        assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "right")).status_code == 200
    assert calls == [False]
    # A different password for the same user is not served from the cache.
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "other")).status_code == 401
    assert calls == [False, False]


def test_a_password_change_ends_the_cached_login_at_once(secure_client, secure_app, admin):
    add_user(secure_app, "alice", "old")
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "old")).status_code == 200
    response = secure_client.put(f"{BASE}/user/alice/credentials", headers=admin,
                                 json={"password": "new", "authenticatedUserPassword": ADMIN_PASSWORD})
    assert response.status_code == 204
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "old")).status_code == 401
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "new")).status_code == 200


def test_deleting_a_user_ends_its_cached_login_at_once(secure_client, secure_app, admin):
    add_user(secure_app, "alice", "pw")
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw")).status_code == 200
    assert secure_client.delete(f"{BASE}/user/alice", headers=admin).status_code == 204
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw")).status_code == 401


def test_cache_entries_expire():
    now = [1000.0]
    cache = CredentialCache(ttl_seconds=60, clock=lambda: now[0])
    marker = object()
    cache.put("alice", "pw", marker)
    now[0] += 59
    assert cache.get("alice", "pw") is marker
    now[0] += 2
    assert cache.get("alice", "pw") is None
    assert len(cache) == 0


def test_cache_keys_hold_neither_user_nor_password():
    cache = CredentialCache(ttl_seconds=60)
    cache.put("alice", "s3cret", object())
    (digest,) = cache._entries
    assert b"s3cret" not in digest and b"alice" not in digest
    assert cache.get("alic", "es3cret") is None  # the length prefix keeps the pairs apart


def test_passwords_are_stored_as_argon2id_and_never_logged(secure_client, secure_app, admin, caplog):
    caplog.set_level(logging.DEBUG)
    secure_client.post(f"{BASE}/user/create", headers=admin,
                       json={"profile": {"id": "bob"}, "credentials": {"password": "Tr0ub4dor&3"}})
    secure_client.get(f"{BASE}/job/count", headers=basic("bob", "Tr0ub4dor&3"))
    secure_client.get(f"{BASE}/job/count", headers=basic("bob", "wrong-Tr0ub4dor"))
    with secure_app.app_context():
        stored = db.session.scalar(select(user_table.c.password_hash).where(user_table.c.id == "bob"))
        db.session.remove()
    assert stored.startswith("$argon2id$") and "Tr0ub4dor" not in stored
    assert not [record for record in caplog.records if "Tr0ub4dor" in record.getMessage()]


def test_an_outdated_hash_is_upgraded_at_the_next_login(secure_client, secure_app, monkeypatch):
    add_user(secure_app, "alice", "pw")
    monkeypatch.setitem(secure_app.config, "PASSWORD_HASH_TIME_COST", 2)
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw")).status_code == 200
    with secure_app.app_context():
        stored = db.session.scalar(select(user_table.c.password_hash).where(user_table.c.id == "alice"))
        db.session.remove()
    assert ",t=2," in stored


def test_authentication_returns_groups_and_tenants_also_through_groups(secure_app, admin):
    with secure_app.app_context():
        authentication = auth.authenticate(ADMIN, ADMIN_PASSWORD)
        db.session.remove()
    assert authentication.user_id == ADMIN and authentication.is_admin
