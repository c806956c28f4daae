"""The job handler registry: handler type -> Python callable.

A handler is a function taking a :class:`JobContext`. It succeeds by returning and fails by
raising; the executor then deletes the job or records the failure. Database work a handler
does through ``context.session`` commits in the same transaction that deletes the job, so its
effects are applied exactly once even when a job is executed twice.

Register one with the decorator and list its module in ``JOB_HANDLER_MODULES``::

    from app.services.handlers import job_handler

    @job_handler("billing.charge-card")
    def charge_card(context):
        charge(context.configuration["invoiceId"])

A worker acquires only the handler types it has registered, so workers of different services
can share one database; jobs whose type no worker serves simply wait.
"""

import importlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from app.dates import parse_date, utcnow

_ALL_HANDLERS: dict[str, Callable] = {}
DEMO_PREFIX = "demo."
BUILTIN_MODULES = ("app.services.batch_handlers",)


@dataclass
class JobContext:
    """What a handler sees of the job it runs."""

    id: str
    handler_type: str
    configuration: dict
    retries: int
    batch_id: str | None
    session: Any = field(repr=False, default=None)
    # Work for after the commit (e.g. waking the executor for jobs the handler created).
    after_commit: list = field(default_factory=list, repr=False)


def job_handler(handler_type):
    """Register the decorated function as the handler of ``handler_type``."""

    def register(function):
        existing = _ALL_HANDLERS.get(handler_type)
        if existing is not None and existing is not function and (
                existing.__module__, existing.__qualname__) != (function.__module__, function.__qualname__):
            raise ValueError(f"handler type {handler_type!r} is already registered by {existing.__module__}")
        _ALL_HANDLERS[handler_type] = function
        return function

    return register


def init_handlers(app):
    """Import the built-in and configured handler modules; keep the enabled ones on the app."""
    for module in BUILTIN_MODULES + tuple(app.config["JOB_HANDLER_MODULES"]):
        importlib.import_module(module)
    enabled = {
        handler_type: function
        for handler_type, function in _ALL_HANDLERS.items()
        if app.config["JOB_DEMO_HANDLERS"] or not handler_type.startswith(DEMO_PREFIX)
    }
    app.extensions["job_handlers"] = enabled


def enabled_handlers():
    from flask import current_app

    return current_app.extensions["job_handlers"]


# --- the built-in demo handlers (JOB_DEMO_HANDLERS=false turns them off) -----------------

@job_handler("demo.noop")
def demo_noop(context):
    """Succeeds."""


@job_handler("demo.fail-until")
def demo_fail_until(context):
    """Fails with ``configuration.message`` while now is before ``configuration.failUntil``."""
    fail_until = context.configuration.get("failUntil")
    until = parse_date(fail_until) if fail_until is not None else datetime.max
    if utcnow() < until:
        raise RuntimeError(context.configuration.get("message") or "Simulated failure")


@job_handler("demo.sleep")
def demo_sleep(context):
    """Sleeps ``configuration.seconds`` (default 1), then succeeds."""
    time.sleep(float(context.configuration.get("seconds", 1)))
