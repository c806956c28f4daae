"""The job handler registry: handler type -> Python callable.

A handler is a function taking a :class:`JobContext`. It succeeds by returning and fails by
raising; the executor then deletes the job or records the failure. Database work a handler
does through ``context.session`` commits in the same transaction that deletes the job, so its
effects are applied exactly once even when a job is executed twice.

Register one with the decorator and list its module in ``JOB_HANDLER_MODULES``::

    from app.services.executor.handlers import job_handler

    @job_handler("billing.charge-card")
    def charge_card(context):
        charge(context.configuration["invoiceId"])

A worker acquires only the handler types it has registered, so workers of different services
can share one database; jobs whose type no worker serves simply wait.
"""

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app

from app.core.names import DEMO_HANDLER_PREFIX

_ALL_HANDLERS: dict[str, Callable] = {}


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
    # The executor's connection in autocommit mode, or None: after the commit, a single read
    # on it is one round trip instead of BEGIN, the read and ROLLBACK on the session.
    autocommit: Any = field(repr=False, default=None)


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
    """Import the configured handler modules; keep the enabled handlers on the app.

    The built-in handlers (the batch engine's, the demo ones) register when their modules are
    imported, which the application factory does; ``JOB_HANDLER_MODULES`` names the others.
    """
    for module in app.config["JOB_HANDLER_MODULES"]:
        importlib.import_module(module)
    enabled = {
        handler_type: function
        for handler_type, function in _ALL_HANDLERS.items()
        if app.config["JOB_DEMO_HANDLERS"] or not handler_type.startswith(DEMO_HANDLER_PREFIX)
    }
    app.extensions["job_handlers"] = enabled


def enabled_handlers():
    """Handler type -> function, for the handlers this process runs."""
    return current_app.extensions["job_handlers"]
