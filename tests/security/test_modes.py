"""Which modes authenticate, the refusal to serve without an administrator, the bootstrap of
the administrator, ``flask users`` and the embedded banner."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.core.permissions import CAMUNDA_ADMIN
from app.embedded import auth_line
from app.extensions import db
from app.models.tables import group_member_table, user_table
from app.services.identity.bootstrap import NO_ADMINISTRATOR
from config import ConfigurationError
from tests.security.conftest import BASE, add_user, basic

ROOT = Path(__file__).resolve().parents[2]


def config_value(name, **env):
    """``name`` of the config class a fresh process selects with ``env`` (classes read the environment once)."""
    environment = {key: value for key, value in os.environ.items() if key not in ("AUTH_ENABLED", "APP_ENV")}
    environment.update(DATABASE_URL="postgresql://nowhere/x", REDIS_URL="redis://nowhere:1/0", **env)
    output = subprocess.run(
        [sys.executable, "-c", f"from config import select_config; print(select_config().{name})"],
        cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    return output.stdout.strip()


@pytest.mark.parametrize("env, expected", [
    ({"APP_ENV": "production"}, "True"),
    ({"APP_ENV": "production", "AUTH_ENABLED": "false"}, "False"),
    ({"APP_ENV": "development"}, "False"),
    ({"APP_ENV": "development", "AUTH_ENABLED": "true"}, "True"),
    ({"APP_ENV": "test", "AUTH_ENABLED": "true"}, "False"),  # the suite never follows the shell
])
def test_auth_enabled_per_mode(env, expected):
    assert config_value("AUTH_ENABLED", **env) == expected


def test_a_process_without_authentication_warns_when_it_starts(caplog):
    caplog.set_level(logging.WARNING, logger="app.api.auth")
    create_app("test", overrides={"TESTING": False})
    assert any("authentication is OFF" in record.getMessage() for record in caplog.records)


def test_serving_with_authentication_and_no_administrator_refuses_to_start(app, secure_app):
    add_user(secure_app, "operator", "pw")  # a user, but no administrator
    with pytest.raises(ConfigurationError) as refused:
        create_app("test", overrides={"AUTH_ENABLED": True}, serving=True)
    assert str(refused.value) == NO_ADMINISTRATOR
    assert "JOBSERVICE_ADMIN_USER" in NO_ADMINISTRATOR and "JOBSERVICE_ADMIN_PASSWORD" in NO_ADMINISTRATOR


def test_serving_starts_with_an_administrator_or_without_authentication(app, secure_app):
    create_app("test", serving=True)  # authentication off: nothing to require
    add_user(secure_app, "boss", "pw", admin=True)
    create_app("test", overrides={"AUTH_ENABLED": True}, serving=True)


def test_an_administrator_without_password_does_not_count(app, secure_app):
    add_user(secure_app, "boss", None, admin=True)
    with pytest.raises(ConfigurationError):
        create_app("test", overrides={"AUTH_ENABLED": True}, serving=True)


def test_the_procfile_bootstraps_in_release_and_serves_with_the_check():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert "flask --app app db upgrade && " in lines["release"]
    assert lines["release"].endswith("flask --app app users bootstrap")
    assert '"app:create_app(serving=True)"' in lines["web"]
    assert "create_app(serving=True" in (ROOT / "workers" / "celery_app.py").read_text()


def admin_members(app):
    with app.app_context():
        members = db.session.scalars(select(group_member_table.c.user_id)
                                     .where(group_member_table.c.group_id == CAMUNDA_ADMIN)).all()
        db.session.remove()
    return sorted(members)


def test_bootstrap_creates_then_updates_the_administrator(secure_app, secure_client, monkeypatch):
    runner = secure_app.test_cli_runner()
    monkeypatch.setenv("JOBSERVICE_ADMIN_USER", "root")
    monkeypatch.setenv("JOBSERVICE_ADMIN_PASSWORD", "first")
    result = runner.invoke(args=["users", "bootstrap"])
    assert result.exit_code == 0 and "administrator root: created" in result.output
    assert admin_members(secure_app) == ["root"]
    assert secure_client.get(f"{BASE}/job/count", headers=basic("root", "first")).status_code == 200

    assert "administrator root: unchanged" in runner.invoke(args=["users", "bootstrap"]).output
    monkeypatch.setenv("JOBSERVICE_ADMIN_PASSWORD", "second")
    assert "administrator root: updated" in runner.invoke(args=["users", "bootstrap"]).output
    assert secure_client.get(f"{BASE}/job/count", headers=basic("root", "first")).status_code == 401
    assert secure_client.get(f"{BASE}/job/count", headers=basic("root", "second")).status_code == 200


def test_bootstrap_without_variables_does_nothing_and_with_one_fails(secure_app, monkeypatch):
    runner = secure_app.test_cli_runner()
    monkeypatch.delenv("JOBSERVICE_ADMIN_USER", raising=False)
    monkeypatch.delenv("JOBSERVICE_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(args=["users", "bootstrap"])
    assert result.exit_code == 0 and "is not set" in result.output
    monkeypatch.setenv("JOBSERVICE_ADMIN_USER", "root")
    result = runner.invoke(args=["users", "bootstrap"])
    assert result.exit_code == 1 and "set both" in result.output
    monkeypatch.setenv("JOBSERVICE_ADMIN_PASSWORD", "pw")
    monkeypatch.setenv("JOBSERVICE_ADMIN_USER", "not valid!")
    result = runner.invoke(args=["users", "bootstrap"])
    assert result.exit_code == 1 and "is not a valid resource identifier" in result.output
    assert admin_members(secure_app) == []


def test_users_create_set_password_list_delete(secure_app, secure_client):
    runner = secure_app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "alice", "--password", "pw1", "--first-name", "Alice"])
    assert created.exit_code == 0, created.output
    prompted = runner.invoke(args=["users", "create", "bob", "--admin"], input="pw2\npw2\n")
    assert prompted.exit_code == 0 and "(administrator)" in prompted.output
    assert admin_members(secure_app) == ["bob"]
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw1")).status_code == 200
    assert secure_client.get(f"{BASE}/job/count", headers=basic("bob", "pw2")).status_code == 200

    listing = runner.invoke(args=["users", "list"]).output.splitlines()
    assert listing[0].split() == ["ID", "FIRST", "NAME", "LAST", "NAME", "EMAIL", "ADMIN", "PASSWORD"]
    assert listing[1].split() == ["alice", "Alice", "set"] and listing[2].split() == ["bob", "yes", "set"]

    assert runner.invoke(args=["users", "set-password", "alice", "--password", "pw3"]).exit_code == 0
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw1")).status_code == 401
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw3")).status_code == 200

    assert runner.invoke(args=["users", "delete", "alice"]).exit_code == 0
    assert secure_client.get(f"{BASE}/job/count", headers=basic("alice", "pw3")).status_code == 401
    with secure_app.app_context():
        assert db.session.scalars(select(user_table.c.id)).all() == ["bob"]
        db.session.remove()


@pytest.mark.parametrize("args, message", [
    (["users", "create", "alice", "--password", "pw"], "The user already exists"),
    (["users", "create", "a b", "--password", "pw"],
     "User has an invalid id: 'a b' is not a valid resource identifier."),
    (["users", "create", "carol", "--password", ""], "the password must not be empty"),
    (["users", "set-password", "nobody", "--password", "pw"], "User with id nobody does not exist"),
    (["users", "delete", "nobody"], "User with id nobody does not exist"),
])
def test_users_cli_errors(secure_app, args, message):
    add_user(secure_app, "alice", "pw")
    result = secure_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1 and message in result.output


def test_the_embedded_banner_says_whether_authentication_is_on():
    assert auth_line({"AUTH_ENABLED": True}, "127.0.0.1").startswith("on ")
    assert auth_line({"AUTH_ENABLED": False}, "127.0.0.1").startswith("OFF: anyone on this machine")
    assert "listening on 0.0.0.0" in auth_line({"AUTH_ENABLED": False}, "0.0.0.0")
