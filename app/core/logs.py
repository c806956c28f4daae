"""Log records that say which request, job and batch they belong to (README "Logs", spec A22).

Three context variables hold the request id (set by the web for each request), the job id and
the batch id (set by the executor around each job). The log record factory installed by
:func:`configure_logging` copies them onto every record when it is made, so a line logged
anywhere below (a service, a library) carries them without being passed them. Context variables are per thread and per
asyncio task, so the web's threads and the executor's threads never see each other's values.

``request_id``, ``job_id``, ``batch_id`` and ``context`` are therefore attributes of every record:
a log call must not pass them in ``extra=`` (the logging module refuses to overwrite them).

Two formats: ``text`` (the default, for a person at a terminal) and ``json`` (one JSON object
per line, for log shippers), chosen by ``LOG_FORMAT``. Stdlib only: app.core needs nothing else.
"""

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

request_id_var = ContextVar("request_id", default=None)
job_id_var = ContextVar("job_id", default=None)
batch_id_var = ContextVar("batch_id", default=None)

CONTEXT_FIELDS = (("request_id", request_id_var), ("job_id", job_id_var), ("batch_id", batch_id_var))
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s%(context)s"
# The handler configure_logging installs, so that a second app in one process (tests, the
# embedded supervisor) replaces it instead of adding a second one.
_HANDLER_NAME = "jobservice"


@contextmanager
def job_context(job_id, batch_id=None):
    """Log records inside carry ``job_id`` (and ``batch_id`` when the job belongs to a batch)."""
    job_token = job_id_var.set(job_id)
    batch_token = batch_id_var.set(batch_id)
    try:
        yield
    finally:
        batch_id_var.reset(batch_token)
        job_id_var.reset(job_token)


@contextmanager
def batch_context(batch_id):
    token = batch_id_var.set(batch_id)
    try:
        yield
    finally:
        batch_id_var.reset(token)


def _context_of(record):
    parts = []
    for name, variable in CONTEXT_FIELDS:
        value = getattr(record, name, None) or variable.get()
        setattr(record, name, value)
        if value:
            parts.append(f"{name}={value}")
    record.context = f" [{' '.join(parts)}]" if parts else ""
    return record


def install_record_factory():
    """Every record gets ``request_id``, ``job_id``, ``batch_id`` (None when unset) and
    ``context`` (the set ones as `` [request_id=... job_id=...]``, for the text format) when it is
    created, in the thread that logs it; any handler (pytest's caplog too) sees them. Idempotent."""
    current = logging.getLogRecordFactory()
    if getattr(current, "jobservice_context", False):
        return

    def factory(*args, **kwargs):
        return _context_of(current(*args, **kwargs))

    factory.jobservice_context = True
    logging.setLogRecordFactory(factory)


class ContextFilter(logging.Filter):
    """For records made before :func:`install_record_factory` ran or by a custom factory."""

    def filter(self, record):
        if not hasattr(record, "context"):
            _context_of(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``process``,
    ``message``, the context ids that are set, and ``exception`` (the traceback) when there is one."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        for name, _ in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_formatter(log_format):
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level, log_format="text", stream=None):
    """Install one handler on the root logger (replacing the one a previous call installed) with
    the context filter and the chosen format. Returns the handler."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, got {log_format!r}")
    install_record_factory()
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(make_formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
