"""jobservice: a job and batch service that speaks the Camunda 7 REST API.

``create_app`` is the application factory used by gunicorn (``app:create_app()``), by the
Celery entry point (``workers.celery_app``), by ``flask --app app`` and by the tests.
"""

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.core.logs import configure_logging
from app.core.retry_cycles import RetryCycleError, parse_retry_cycle
from config import ConfigurationError, select_config


def create_app(config_object=None, overrides=None, serving=False):
    """Build the Flask app. ``config_object`` is a config class or an ``APP_ENV`` name.

    ``serving``: this process serves requests or runs jobs (the Procfile's web and worker, the
    embedded mode), so it refuses to start in a state it cannot work in: authentication on and
    no administrator who could log in. The CLI (migrations, ``flask users``) builds the app
    without it, since that is how an administrator gets created.
    """
    if config_object is None or isinstance(config_object, str):
        config_object = select_config(config_object)
    app = Flask(__name__, instance_relative_config=False)
    # Every route also answers with a trailing slash, without a redirect, as JAX-RS matches
    # (spec C.2, A18). Set before the first rule is added: a rule reads it when it is bound.
    app.url_map.strict_slashes = False
    app.config.from_object(config_object)
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    _check_retry_cycles(app.config)
    app.json.sort_keys = False

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    if serving:
        _require_administrator(app)
    return app


def _check_retry_cycles(config):
    """A malformed FAILED_JOB_RETRY_TIME_CYCLE(_BY_TYPE) stops the start, not the first failure."""
    cycles = {"FAILED_JOB_RETRY_TIME_CYCLE": config["FAILED_JOB_RETRY_TIME_CYCLE"]}
    for handler_type, cycle in config["FAILED_JOB_RETRY_CYCLE_BY_TYPE"].items():
        cycles[f"FAILED_JOB_RETRY_CYCLE_BY_TYPE[{handler_type!r}]"] = cycle
    for name, cycle in cycles.items():
        if cycle is None:
            continue
        try:
            parse_retry_cycle(cycle)
        except RetryCycleError as error:
            raise ConfigurationError(f"{name}: {error}") from None


def _engine_options(config):
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        # One file shared by the web and the worker processes: wait for the lock instead of
        # failing with "database is locked".
        return {"connect_args": {"timeout": 30}}
    connect_args = {
        "connect_timeout": config["DB_CONNECT_TIMEOUT_SECONDS"],
        # A database host that vanishes mid-query (no FIN, no RST) is noticed in about 20 s
        # instead of the kernel's two hours.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 2,
    }
    if config["DB_STATEMENT_TIMEOUT_SECONDS"]:
        connect_args["options"] = f"-c statement_timeout={int(config['DB_STATEMENT_TIMEOUT_SECONDS'] * 1000)}"
    return {
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_pre_ping": config["DB_POOL_PRE_PING"],
        "pool_recycle": 1800,
        "connect_args": connect_args,
    }


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers and one writer work at once in the embedded SQLite file."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")  # a job's stack trace goes with the job
        cursor.close()


# The factory imports the rest of the package inside its functions: the modules below import
# ``app`` themselves, and importing them when ``app`` is first imported would be circular.
def _init_extensions(app):
    from app import models  # noqa: F401  (register the tables with the metadata)
    from app.celery_setup import celery_init_app
    from app.errors import register_error_handlers
    from app.extensions import db, migrate
    from app.services import demo  # noqa: F401  (registers the demo handlers)
    from app.services.batches import handlers as batch_handlers  # noqa: F401  (registers them)
    from app.services.executor.handlers import init_handlers

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    # Read once: /health/ready compares the database with it at every probe.
    app.extensions["migration_heads"] = tuple(ScriptDirectory(str(_migrations_dir())).get_heads())
    register_error_handlers(app)
    celery_init_app(app)
    init_handlers(app)


def _migrations_dir():
    return Path(__file__).resolve().parent.parent / "migrations"


def _register_blueprints(app):
    from app.api import register_blueprints
    from app.api.auth import init_authentication
    from app.api.engines import init_engines
    from app.api.request_context import init_request_context
    from app.console import bp as console_bp

    init_request_context(app)  # first: a request refused by authentication has an id too
    init_engines(app)  # before authentication: Camunda checks the engine name first (C.2)
    init_authentication(app)
    register_blueprints(app)
    app.register_blueprint(console_bp, url_prefix="/console")


def _register_cli(app):
    from app.cli import jobs_cli
    from app.identity_cli import users_cli

    app.cli.add_command(jobs_cli)
    app.cli.add_command(users_cli)


def _require_administrator(app):
    from app.services.identity.bootstrap import require_administrator

    with app.app_context():
        require_administrator()
