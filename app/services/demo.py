"""Demo handlers (``demo.*``, switched by JOB_DEMO_HANDLERS) and realistic, varied demo jobs.

The demo jobs are put in through the same service as ``POST /api/jobs``: several process
definitions and instances, timers and messages, past, future and null due dates, failed jobs
(retries 0, with messages and stack traces, and a ``failUntil`` that has passed, so retrying
them makes them succeed), suspended jobs, a spread of priorities and tenants. Jobs of
``invoice.archive`` wait forever unless a worker registers that handler type: they show that
jobs no worker serves simply wait.
"""

import random
import time
from datetime import datetime, timedelta

from app.core.dates import format_date, parse_date, utcnow
from app.services.executor.handlers import job_handler
from app.services.jobs.ingest import create_jobs

PROCESSES = [
    ("invoice", ["ServiceTask_Archive", "Timer_Reminder", "ServiceTask_Notify"]),
    ("order-fulfilment", ["ServiceTask_Reserve", "ServiceTask_Ship", "Timer_Escalate"]),
    ("customer-onboarding", ["ServiceTask_KycCheck", "Timer_FollowUp"]),
    ("payment-retry", ["ServiceTask_Charge", "Timer_Backoff"]),
]
TENANTS = [None, None, "tenant-a", "tenant-b"]
FAILURES = [
    ("Connection refused: payment gateway", "ConnectionRefusedError"),
    ("Timeout after 30000 ms calling inventory-service", "TimeoutError"),
    ("Customer 4711 not found", "LookupError"),
]
CHUNK = 10_000


def _stacktrace(message, error_type):
    return (
        "Traceback (most recent call last):\n"
        '  File "/srv/handlers/tasks.py", line 42, in run\n'
        "    result = client.call(payload)\n"
        '  File "/srv/handlers/client.py", line 17, in call\n'
        "    raise " + error_type + "(message)\n"
        f"{error_type}: {message}\n"
    )


def demo_job(rng, now, number):
    key, activities = rng.choice(PROCESSES)
    activity = rng.choice(activities)
    is_timer = activity.startswith("Timer_")
    instance = f"{key}-instance-{rng.randrange(1, 200):04d}"
    item = {
        "id": None,
        "type": "timer" if is_timer else "message",
        "handler_type": "demo.noop",
        "handler_configuration": {"demo": number},
        "due_date": None,
        "retries": 3,
        "priority": rng.choice([0, 0, 0, 10, 50, 100]),
        "suspended": False,
        "tenant_id": rng.choice(TENANTS),
        "process_instance_id": instance,
        "execution_id": f"{instance}-exec-{rng.randrange(1, 4)}",
        "process_definition_id": f"{key}:1:{key}-v1",
        "process_definition_key": key,
        "activity_id": activity,
        "job_definition_id": None,
        "exception_message": None,
        "exception_stacktrace": None,
        "failed_activity_id": None,
        "create_time": now - timedelta(minutes=rng.randrange(0, 7 * 24 * 60)),
        "deployment_id": f"deployment-{key}",
    }
    roll = rng.random()
    if is_timer:
        # Timers mostly lie in the future (they wait); a few are overdue.
        item["due_date"] = now + timedelta(minutes=rng.randrange(-30, 14 * 24 * 60))
        if item["due_date"] <= now:
            item["due_date"] = now + timedelta(days=1)
    elif roll < 0.35:
        message, error_type = rng.choice(FAILURES)
        item.update(
            handler_type="demo.fail-until",
            handler_configuration={"message": message, "failUntil": format_date(now)},
            retries=0,
            exception_message=message,
            exception_stacktrace=_stacktrace(message, error_type),
            failed_activity_id=activity,
            due_date=rng.choice([None, now - timedelta(hours=rng.randrange(1, 48))]),
        )
    elif roll < 0.45:
        item["suspended"] = True
    else:
        # Work for a handler no demo worker serves: it waits, visible to the query API.
        item["handler_type"] = "invoice.archive"
        item["due_date"] = rng.choice([None, now - timedelta(minutes=5)])
    return item


def create_demo_jobs(count, seed=None):
    """Insert ``count`` demo jobs; returns how many were created."""
    rng = random.Random(seed)
    now = utcnow()
    created = 0
    while created < count:
        size = min(CHUNK, count - created)
        create_jobs([demo_job(rng, now, created + i) for i in range(size)])
        created += size
    return created


# --- the demo handlers (JOB_DEMO_HANDLERS switches them on or off) --------------------------

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
