"""The suite never touches a database it was not given for testing.

Both guarantees are proven against a real "victim" database that holds a marker table: a
PostgreSQL database on the server of this run when ``TEST_DATABASE_URL`` is PostgreSQL (created
through the server's ``postgres`` database and dropped afterwards), a SQLite file otherwise.

- The test config reads only ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``: a pytest run with
  ``DATABASE_URL`` pointing at the victim and no ``TEST_DATABASE_URL`` leaves the victim as it was.
- ``reset_database`` (which drops the schema on PostgreSQL) refuses a database whose name is not
  ``test`` or ``<name>_test``, before it connects, with a message that says what to do instead.
"""

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import create_app
from tests.conftest import is_postgres, reset_database
from tests.guard import UnsafeTestDatabase, is_test_database_name, require_test_database

ROOT = Path(__file__).resolve().parents[2]
HINT = "set TEST_DATABASE_URL to a database whose name ends in _test"
MARKER = "written before the test run"


@dataclass
class Victim:
    url: str

    def contents(self):
        """(table names, marker rows) as they are now."""
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                tables = set(inspect(connection).get_table_names())
                rows = connection.execute(text("SELECT note FROM guard_marker")).scalars().all()
            return tables, rows
        finally:
            engine.dispose()


def _fill(url):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE guard_marker (note VARCHAR(100))"))
            connection.execute(text("INSERT INTO guard_marker (note) VALUES (:note)"), {"note": MARKER})
    finally:
        engine.dispose()


@pytest.fixture
def victim(app, tmp_path):
    """A database that is not the suite's, with a marker table, on this run's backend."""
    if not is_postgres(app):
        url = f"sqlite:///{tmp_path / 'service.sqlite'}"
        _fill(url)
        yield Victim(url)
        return
    test_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    # Unique per run: suites of other checkouts may share the server. Never ends in _test.
    name = f"jobservice_guard_victim_{uuid.uuid4().hex[:8]}"
    admin = create_engine(test_url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = test_url.set(database=name).render_as_string(hide_password=False)
        _fill(url)
        yield Victim(url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _environment(victim, instance_dir):
    """The shell of a developer with the service's URLs exported and no TEST_* variables."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TEST_DATABASE_URL", "TEST_REDIS_URL", "APP_ENV", "BROKER_FOLDER")}
    env.update({
        "DATABASE_URL": victim.url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "INSTANCE_DIR": str(instance_dir),
        "PYTHONPATH": str(ROOT),
    })
    return env


def test_the_test_config_ignores_database_url_and_redis_url(victim, tmp_path):
    instance_dir = tmp_path / "instance"
    result = subprocess.run(
        [sys.executable, "-c",
         "from config.settings import TestConfig as c; print(c.SQLALCHEMY_DATABASE_URI); print(c.BROKER_URL)"],
        cwd=ROOT, env=_environment(victim, instance_dir), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"sqlite:///{instance_dir / 'test.sqlite'}", "redis://127.0.0.1:1/0"]


def test_a_pytest_run_with_database_url_set_leaves_that_database_untouched(victim, tmp_path):
    instance_dir = tmp_path / "instance"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/api/test_smoke.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=_environment(victim, instance_dir), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    # The run migrated its own default database instead ...
    assert (instance_dir / "test.sqlite").is_file()
    # ... and the victim still has exactly what it had.
    assert victim.contents() == ({"guard_marker"}, [MARKER])


def test_reset_refuses_a_server_database_not_named_for_tests_before_connecting():
    # Port 1 answers nothing: had reset_database connected, this would be an OperationalError.
    url = "postgresql://someone:secret@127.0.0.1:1/jobservice"
    app = create_app("test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    with pytest.raises(UnsafeTestDatabase) as raised:
        reset_database(app)
    message = str(raised.value)
    assert HINT in message
    assert "'jobservice' is not named as a test database" in message
    assert "secret" not in message


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="needs the PostgreSQL server of TEST_DATABASE_URL (this run covers the SQLite side)")
def test_reset_leaves_a_real_non_test_database_untouched(victim):
    app = create_app("test", overrides={"SQLALCHEMY_DATABASE_URI": victim.url})
    with pytest.raises(UnsafeTestDatabase, match=HINT):
        reset_database(app)
    assert victim.contents() == ({"guard_marker"}, [MARKER])


@pytest.mark.parametrize("name, allowed", [
    ("test", True), ("jobservice_test", True), ("jobservice_ci_test", True),
    ("jobservice", False), ("postgres", False), ("jobservice_ci", False), ("test_jobservice", False),
    ("jobservice_testing", False), ("jobservicetest", False), ("", False), (None, False),
])
def test_which_names_mark_a_test_database(name, allowed):
    assert is_test_database_name(name) is allowed


def test_sqlite_files_are_not_judged_by_name():
    require_test_database("sqlite:////tmp/anything.sqlite")
    require_test_database("sqlite://")
