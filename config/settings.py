"""Config classes, chosen by one variable (``APP_ENV``), every value overridable from the environment.

``development`` (the default) is the embedded mode: a SQLite file and a filesystem broker under
``instance/``, so a fresh machine needs no server. ``production`` requires ``DATABASE_URL`` and
``REDIS_URL`` and refuses to start without them. ``test`` is what the test suite uses; it reads
only ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``, never ``DATABASE_URL`` / ``REDIS_URL``: the suite
drops the schema of its database, so a URL exported for the service must never reach it.
"""

import json
import os
import re
import socket
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", ROOT_DIR / "instance"))


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never at request time."""


def parse_bool(value, default=False):
    if value is None or value == "":
        return default
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"cannot read {value!r} as a boolean (use true or false)")


def env_str(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name, default=False):
    try:
        return parse_bool(os.environ.get(name), default)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None


def _env_number(name, default, minimum, convert, kind):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = convert(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be {kind}, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_int(name, default=None, minimum=None):
    return _env_number(name, default, minimum, int, "a whole number")


def env_float(name, default=None, minimum=None):
    return _env_number(name, default, minimum, float, "a number")


def env_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_json_int_map(name):
    raw = os.environ.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
        if not isinstance(value, dict) or not all(isinstance(v, int) and v > 0 for v in value.values()):
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            f'{name} must be a JSON object of batch type to positive integer, e.g. {{"set-job-retries": 1000}}'
        ) from None
    return value


def env_json_str_map(name):
    raw = os.environ.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            f'{name} must be a JSON object of handler type to text, e.g. {{"mail.send": "R5/PT5M"}}'
        ) from None
    return value


def env_regex(name, default):
    pattern = env_str(name, default)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigurationError(f"{name} is not a valid regular expression: {exc}") from None
    return pattern


def normalise_database_url(url):
    """Heroku still hands out ``postgres://`` URLs, which SQLAlchemy 1.4+ refuses."""
    if url and url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://"):]
    return url


class BaseConfig:
    """Settings shared by every mode. Each class attribute is read once, when the class is built."""

    ENV_NAME = "base"

    # --- web ---
    PORT = env_int("PORT", 8080, minimum=1)
    REST_BASE_PATH = "/" + env_str("REST_BASE_PATH", "/engine-rest").strip("/")
    OUTPUT_TIMEZONE = env_str("OUTPUT_TIMEZONE", "UTC")
    LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
    # "text" for a terminal, "json" (one object per line) for log shippers (README "Logs").
    LOG_FORMAT = env_str("LOG_FORMAT", "text").lower()
    # Camunda's queryMaxResultsLimit. None: unbounded lists are streamed with constant memory (A12).
    QUERY_MAX_RESULTS_LIMIT = env_int("QUERY_MAX_RESULTS_LIMIT", None, minimum=1)
    # Rows fetched per round trip when streaming an unbounded list.
    QUERY_STREAM_CHUNK_SIZE = env_int("QUERY_STREAM_CHUNK_SIZE", 1000, minimum=1)
    INGEST_MAX_JOBS = 10_000

    # --- database ---
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", 5, minimum=1)
    DB_MAX_OVERFLOW = env_int("DB_MAX_OVERFLOW", 5, minimum=0)
    # Test a pooled connection before each use (PostgreSQL). The web keeps it: after a database
    # restart its first request must not fail on a dead connection. Workers turn it off
    # (workers/celery_app.py): it costs a round trip per transaction, and their loops retry a
    # failed transaction anyway.
    DB_POOL_PRE_PING = env_bool("DB_POOL_PRE_PING", True)
    # libpq's connect_timeout: an unreachable database fails a request with a 503 after this
    # long instead of hanging until the web server's own timeout.
    DB_CONNECT_TIMEOUT_SECONDS = env_int("DB_CONNECT_TIMEOUT_SECONDS", 5, minimum=1)
    # PostgreSQL's statement_timeout for every connection, sent as a startup option; 0 leaves the
    # server's setting. Below GUNICORN_TIMEOUT, so a statement stuck behind a lock ends as a
    # 503 with Camunda's error JSON, not as a killed web worker. A pooler that refuses startup
    # options (PgBouncer in transaction mode by default) needs 0 here and the timeout set on
    # the database role instead (ALTER ROLE ... SET statement_timeout).
    DB_STATEMENT_TIMEOUT_SECONDS = env_float("DB_STATEMENT_TIMEOUT_SECONDS", 30.0, minimum=0)

    # --- broker ---
    BROKER_URL = None

    # --- job executor ---
    DEFAULT_JOB_RETRIES = env_int("DEFAULT_JOB_RETRIES", 3, minimum=0)
    # Camunda's lockTimeInMillis: how long an acquired job stays locked. A live worker extends
    # the locks of the jobs it holds, and a dead worker's jobs are taken over after
    # JOB_DEAD_WORKER_SECONDS, so this only frees locks whose owner is no registered worker.
    JOB_LOCK_TIME_SECONDS = env_float("JOB_LOCK_TIME_SECONDS", 300.0, minimum=0.1)
    # The most jobs one acquisition round locks (a round is sized by JOB_ROUND_SECONDS below it).
    JOB_ACQUISITION_SIZE = env_int("JOB_ACQUISITION_SIZE", 100, minimum=1)
    # A round is sized to take about this long at the job durations the worker measures: many
    # fast jobs per acquisition statement, few slow ones, so a round never sits on jobs that
    # other workers could run and a high-priority arrival waits about one round at most.
    JOB_ROUND_SECONDS = env_float("JOB_ROUND_SECONDS", 0.25, minimum=0.001)
    # Each worker process polls the database this often when no hint woke it: due timers, jobs
    # of dead workers, work whose broker hint was lost (a Redis restart loses them all).
    JOB_SWEEP_INTERVAL_SECONDS = env_float("JOB_SWEEP_INTERVAL_SECONDS", 5.0, minimum=0.1)
    # PostgreSQL only: every commit that makes work visible also sends NOTIFY jobservice_wake,
    # and every worker process LISTENs on a connection of its own, so an idle worker starts
    # within milliseconds instead of after the broker's hops. Turn it off behind a pooler in
    # transaction mode (PgBouncer), where LISTEN does not work: the broker hint still wakes them.
    JOB_WAKE_NOTIFY = env_bool("JOB_WAKE_NOTIFY", True)
    # Each worker process writes its heartbeat this often ...
    JOB_HEARTBEAT_INTERVAL_SECONDS = env_float("JOB_HEARTBEAT_INTERVAL_SECONDS", 2.0, minimum=0.1)
    # ... and is dead once it is this late: its jobs go to the next live worker's round.
    JOB_DEAD_WORKER_SECONDS = env_float("JOB_DEAD_WORKER_SECONDS", 10.0, minimum=0.2)
    JOB_RETRY_DELAY_SECONDS = env_float("JOB_RETRY_DELAY_SECONDS", 0.0, minimum=0)
    # Camunda's failedJobRetryTimeCycle (spec C.10, A19): "R5/PT5M" or "PT1M,PT5M,PT10M", for every
    # handler type, or per handler type (a JSON object); a job's own cycle, given at ingestion,
    # wins over both. None: no cycle (retries - 1, due date as JOB_RETRY_DELAY_SECONDS says).
    FAILED_JOB_RETRY_TIME_CYCLE = env_str("FAILED_JOB_RETRY_TIME_CYCLE")
    FAILED_JOB_RETRY_CYCLE_BY_TYPE = env_json_str_map("FAILED_JOB_RETRY_CYCLE_BY_TYPE")
    # Camunda 7.24's legacyJobRetryBehaviorEnabled: true creates jobs with DEFAULT_JOB_RETRIES
    # even when a cycle applies (the cycle's count replaces it at the first failure).
    LEGACY_JOB_RETRY_BEHAVIOR_ENABLED = env_bool("LEGACY_JOB_RETRY_BEHAVIOR_ENABLED", False)
    JOB_HANDLER_MODULES = env_list("JOB_HANDLER_MODULES")
    # Off unless asked for: the demo handlers (demo.sleep, demo.fail-until ...) would let anyone
    # who can POST /api/jobs keep a production worker busy. Development and test turn them on.
    JOB_DEMO_HANDLERS = env_bool("JOB_DEMO_HANDLERS", False)
    JOB_QUEUE = env_str("JOB_QUEUE", "jobservice")
    CREATE_INCIDENT_ON_FAILED_JOB = env_bool("CREATE_INCIDENT_ON_FAILED_JOB", True)
    # Seconds one job's handler may run: past the soft limit the handler is interrupted and the
    # job fails (retries - 1); past the hard limit (a handler stuck where it cannot be
    # interrupted) the job's failure is recorded and the worker process is replaced.
    TASK_SOFT_TIME_LIMIT = env_int("TASK_SOFT_TIME_LIMIT", 240, minimum=1)
    TASK_TIME_LIMIT = env_int("TASK_TIME_LIMIT", 270, minimum=1)
    WORKER_PREFETCH_MULTIPLIER = env_int("WORKER_PREFETCH_MULTIPLIER", 4, minimum=1)

    # --- batches (Camunda's names in the README) ---
    BATCH_JOBS_PER_SEED = env_int("BATCH_JOBS_PER_SEED", 100, minimum=1)
    INVOCATIONS_PER_BATCH_JOB = env_int("INVOCATIONS_PER_BATCH_JOB", 1000, minimum=1)
    INVOCATIONS_PER_BATCH_JOB_BY_TYPE = env_json_int_map("INVOCATIONS_PER_BATCH_JOB_BY_TYPE")
    BATCH_POLL_TIME_SECONDS = env_float("BATCH_POLL_TIME", 30.0, minimum=0.1)
    BATCH_JOB_PRIORITY = env_int("BATCH_JOB_PRIORITY", 0)
    # How long an Idempotency-Key of POST /job/retries (and by process) answers its batch (A20).
    IDEMPOTENCY_TTL_HOURS = env_float("IDEMPOTENCY_TTL_HOURS", 24.0, minimum=0.01)

    # --- operations (README "Health checks" and "Metrics", spec A22) ---
    # Each readiness check (database, broker) gives up after this long.
    HEALTH_TIMEOUT_SECONDS = env_float("HEALTH_TIMEOUT_SECONDS", 2.0, minimum=0.1)
    # Set: GET /metrics wants "Authorization: Bearer <token>" instead of HTTP Basic.
    METRICS_TOKEN = env_str("METRICS_TOKEN")
    # How long one process reuses the job, batch and worker counts read from the database.
    METRICS_CACHE_SECONDS = env_float("METRICS_CACHE_SECONDS", 30.0, minimum=0)
    # Set: each Celery worker serves its pool children's metrics on this port (GET /metrics).
    WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", None, minimum=1)
    WORKER_METRICS_HOST = env_str("WORKER_METRICS_HOST", "0.0.0.0")

    # --- the historic job log (spec C.3, A19) ---
    # Creation, failure, success and deletion events of every job, written in the transaction
    # of the change. False: nothing is written (GET /history/job-log still answers).
    JOB_LOG_ENABLED = env_bool("JOB_LOG_ENABLED", True)
    # History cleanup: the workers delete log rows older than this many days, in chunks of
    # JOB_LOG_CLEANUP_CHUNK rows, at most JOB_LOG_CLEANUP_MAX_CHUNKS chunks per sweep. None: kept.
    JOB_LOG_TTL_DAYS = env_float("JOB_LOG_TTL_DAYS", None, minimum=0)
    JOB_LOG_CLEANUP_CHUNK = env_int("JOB_LOG_CLEANUP_CHUNK", 10_000, minimum=1)
    JOB_LOG_CLEANUP_MAX_CHUNKS = env_int("JOB_LOG_CLEANUP_MAX_CHUNKS", 10, minimum=1)
    # The log's ``hostname`` (Camunda: the engine node that wrote the event).
    JOB_LOG_HOSTNAME = env_str("JOB_LOG_HOSTNAME", socket.gethostname())

    # --- demo data on first start (embedded mode) ---
    DEMO_DATA_ON_FIRST_START = False

    # --- security (README "Security") ---
    # HTTP Basic on every route; each mode decides its default (production on, the others off).
    AUTH_ENABLED = False
    # How long a verified user + password stays verified in one process (0: verify every request).
    AUTH_CACHE_SECONDS = env_float("AUTH_CACHE_SECONDS", 60.0, minimum=0)
    # argon2id cost of new password hashes: OWASP's minimum (19 MiB, 2 passes, 1 lane) by
    # default. A stored hash keeps its own parameters; it is rehashed at the next login after a change.
    PASSWORD_HASH_TIME_COST = env_int("PASSWORD_HASH_TIME_COST", 2, minimum=1)
    PASSWORD_HASH_MEMORY_KIB = env_int("PASSWORD_HASH_MEMORY_KIB", 19456, minimum=8)
    PASSWORD_HASH_PARALLELISM = env_int("PASSWORD_HASH_PARALLELISM", 1, minimum=1)
    # User, group and tenant ids must match it (Camunda's generalResourceWhitelistPattern).
    IDENTITY_ID_PATTERN = env_regex("IDENTITY_ID_PATTERN", "[a-zA-Z0-9]+|camunda-admin")

    @classmethod
    def validate(cls):
        """Fail fast with a message an operator can act on."""
        if cls.LOG_FORMAT not in ("text", "json"):
            raise ConfigurationError(f"LOG_FORMAT must be text or json, got {cls.LOG_FORMAT!r}")
        if cls.WORKER_METRICS_PORT and cls.AUTH_ENABLED and not cls.METRICS_TOKEN:
            raise ConfigurationError("WORKER_METRICS_PORT needs METRICS_TOKEN while authentication is on: a worker's "
                                     "metrics endpoint accepts only that bearer token")
        if cls.JOB_DEAD_WORKER_SECONDS < 2 * cls.JOB_HEARTBEAT_INTERVAL_SECONDS:
            raise ConfigurationError(
                f"JOB_DEAD_WORKER_SECONDS ({cls.JOB_DEAD_WORKER_SECONDS:g}) must be at least twice "
                f"JOB_HEARTBEAT_INTERVAL_SECONDS ({cls.JOB_HEARTBEAT_INTERVAL_SECONDS:g}): a worker that misses "
                "one heartbeat would be taken for dead")


class DevelopmentConfig(BaseConfig):
    """The embedded default: nothing but Python needed."""

    ENV_NAME = "development"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        env_str("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'jobservice.sqlite'}")
    )
    # "localhost" only keeps kombu from warning "No hostname was supplied"; the filesystem
    # transport ignores it. Messages are files in BROKER_FOLDER.
    BROKER_URL = env_str("REDIS_URL", "filesystem://localhost/")
    BROKER_FOLDER = env_str("BROKER_FOLDER", str(INSTANCE_DIR / "broker"))
    DEMO_DATA_ON_FIRST_START = env_bool("DEMO_DATA_ON_FIRST_START", True)
    JOB_DEMO_HANDLERS = env_bool("JOB_DEMO_HANDLERS", True)  # the README's walk-through uses them
    # The embedded mode listens on 127.0.0.1 only, so it may run without authentication.
    AUTH_ENABLED = env_bool("AUTH_ENABLED", False)


class TestConfig(BaseConfig):
    """The test suite. The default broker URL points nowhere on purpose: a test that enqueues
    without mocking or without a real worker fixture fails loudly instead of passing eagerly.

    Only the ``TEST_*`` variables are read. A fallback to ``DATABASE_URL`` once let ``pytest``
    in a shell (or a one-off dyno) with the service's URL exported drop that database's schema.
    """

    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        env_str("TEST_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'test.sqlite'}")
    )
    BROKER_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:1/0")
    BROKER_FOLDER = env_str("BROKER_FOLDER", str(INSTANCE_DIR / "test-broker"))
    JOB_DEMO_HANDLERS = True
    # Every scrape reads the database: a test sees the state it has just made.
    METRICS_CACHE_SECONDS = 0.0
    # The suite runs without authentication; tests/security builds apps with it on. Cheap
    # hashes keep those tests fast (the parameters travel inside each hash).
    AUTH_ENABLED = False
    AUTH_CACHE_SECONDS = 60.0
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 256
    PASSWORD_HASH_PARALLELISM = 1


class ProductionConfig(BaseConfig):
    """Heroku-style: DATABASE_URL and REDIS_URL come from add-ons."""

    ENV_NAME = "production"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(env_str("DATABASE_URL"))
    BROKER_URL = env_str("REDIS_URL")
    # Off only explicitly (AUTH_ENABLED=false), e.g. behind a gateway that authenticates; every
    # process then logs a warning when it starts.
    AUTH_ENABLED = env_bool("AUTH_ENABLED", True)

    @classmethod
    def validate(cls):
        super().validate()
        missing = [name for name, value in (("DATABASE_URL", cls.SQLALCHEMY_DATABASE_URI),
                                            ("REDIS_URL", cls.BROKER_URL)) if not value]
        if missing:
            raise ConfigurationError(
                f"APP_ENV=production needs {' and '.join(missing)} to be set "
                "(a PostgreSQL URL and a Redis URL); refusing to start."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def select_config(name=None):
    """Return the config class named by ``name`` or ``APP_ENV`` (default ``development``).

    The classes read the environment when this module is imported (each process reads it once);
    ``create_app(overrides=...)`` is the way to change a setting inside one process.
    """
    name = (name or os.environ.get("APP_ENV") or "development").lower()
    try:
        config = CONFIGS[name]
    except KeyError:
        raise ConfigurationError(f"APP_ENV must be one of {', '.join(sorted(CONFIGS))}, got {name!r}") from None
    config.validate()
    return config
