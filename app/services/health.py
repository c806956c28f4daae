"""Readiness checks: the database answers, its schema is at the head migration, the broker answers.

Each check is cheap enough to run every second (one short query, one broker ping) and bounded
by ``HEALTH_TIMEOUT_SECONDS``: a database or broker that does not answer makes the check fail
after that long instead of holding the probe. The head revision of the migration scripts is
read once, when the app is built (``app.extensions["migration_heads"]``). A check reports what
failed in a few words (the exception's class), never a URL or a credential.
"""

import os
import threading

import redis
from flask import current_app
from kombu import Connection
from sqlalchemy import text

from app.extensions import db

UP, DOWN = "UP", "DOWN"

_redis_clients = {}
_redis_lock = threading.Lock()


def _reason(error):
    return type(error).__name__


def check_database(expected_heads, timeout):
    """The database answers, and ``alembic_version`` holds the head(s) of the migration scripts."""
    try:
        session = db.session
        if db.engine.dialect.name == "postgresql":
            # A short statement_timeout for this transaction only (SET LOCAL ends with it).
            session.execute(text(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}"))
        current = sorted(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
        session.rollback()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"; the class says which
        db.session.rollback()
        return {"status": DOWN, "reason": _reason(error)}, None
    database = {"status": UP}
    migrations = {"status": UP if current == sorted(expected_heads) else DOWN,
                  "current": current, "head": sorted(expected_heads)}
    if migrations["status"] == DOWN:
        migrations["reason"] = "the database is not at the head migration (run flask --app app db upgrade)"
    return database, migrations


def _redis_client(url, timeout):
    """One client (and connection pool) per broker URL and process: a probe every second reuses
    its connection instead of opening one."""
    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                          retry_on_timeout=False)
            _redis_clients[url] = client
        return client


def check_broker(config, timeout):
    url = config["BROKER_URL"]
    try:
        if url.startswith("filesystem://"):
            folder = config["BROKER_FOLDER"]
            if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                return {"status": DOWN, "reason": "the file broker's folder is missing or not writable"}
        elif url.startswith(("redis://", "rediss://", "unix://")):
            _redis_client(url, timeout).ping()
        else:
            with Connection(url, connect_timeout=timeout) as connection:
                connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return {"status": DOWN, "reason": _reason(error)}
    return {"status": UP}


def readiness():
    """``(ready, checks)``: every check and whether all are up."""
    config = current_app.config
    timeout = config["HEALTH_TIMEOUT_SECONDS"]
    database, migrations = check_database(current_app.extensions["migration_heads"], timeout)
    checks = {"database": database}
    if migrations is not None:
        checks["migrations"] = migrations
    checks["broker"] = check_broker(config, timeout)
    ready = all(check["status"] == UP for check in checks.values()) and migrations is not None
    return ready, checks
