"""The harness's one in-process probe: the settings web and workers run with, for the report.

Everything else the harness learns from the service it learns through the Procfile's
processes, HTTP and SQL. The effective values of settings such as ``DB_POOL_SIZE`` or
``JOB_SWEEP_INTERVAL_SECONDS`` are visible nowhere outside a process, so this module imports
the production config class with the processes' environment (the class reads the environment
when it is imported, as each service process does) and reads attributes by name. A setting the
class no longer has is reported as "n/a", so a renamed setting costs a line of the report, not
the run. Nothing else of the product is imported.
"""

import importlib
import os

# setting name in the report -> config attribute
REPORTED = {
    "INVOCATIONS_PER_BATCH_JOB": "INVOCATIONS_PER_BATCH_JOB",
    "BATCH_JOBS_PER_SEED": "BATCH_JOBS_PER_SEED",
    "DB_POOL_SIZE": "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW": "DB_MAX_OVERFLOW",
    "JOB_ACQUISITION_SIZE": "JOB_ACQUISITION_SIZE",
    "JOB_LOCK_TIME_SECONDS": "JOB_LOCK_TIME_SECONDS",
    "JOB_SWEEP_INTERVAL_SECONDS": "JOB_SWEEP_INTERVAL_SECONDS",
    "BATCH_POLL_TIME": "BATCH_POLL_TIME_SECONDS",
    "QUERY_STREAM_CHUNK_SIZE": "QUERY_STREAM_CHUNK_SIZE",
    "QUERY_MAX_RESULTS_LIMIT": "QUERY_MAX_RESULTS_LIMIT",
    "AUTH_ENABLED": "AUTH_ENABLED",
    "AUTH_CACHE_SECONDS": "AUTH_CACHE_SECONDS",
}


def effective_settings(env):
    """{setting: value} as a production process would read them from ``env``."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = importlib.import_module("config.settings")
        config = importlib.reload(settings).ProductionConfig
    except Exception as exc:  # noqa: BLE001 - the report says why instead of failing the run
        return {"settings": f"n/a ({type(exc).__name__}: {exc})"}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    values = {name: getattr(config, attribute, "n/a") for name, attribute in REPORTED.items()}
    by_type = getattr(config, "INVOCATIONS_PER_BATCH_JOB_BY_TYPE", None) or {}
    if by_type.get("set-job-retries"):
        values["INVOCATIONS_PER_BATCH_JOB"] = by_type["set-job-retries"]
    return values
