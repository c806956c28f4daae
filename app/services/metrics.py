"""Prometheus metrics (README "Metrics", spec A22).

Two kinds, decided by what each one measures:

* **Events** (job executions by outcome and handler type, their durations, acquisition rounds,
  dead workers noticed, HTTP requests) are counted where they happen, in the process they
  happen in, with ``prometheus_client``. When ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn's
  processes always, see config/gunicorn.py; the embedded mode's web and worker share one)
  each process writes its values to a file there and ``/metrics`` serves the sum of every
  process of the directory.
* **State** (jobs by state, batches and their remaining elements, workers) is read from the
  database when ``/metrics`` is scraped: the database is the one place that knows it for every
  worker on every machine. The queries are one pass over each table and are cached for
  ``METRICS_CACHE_SECONDS`` per process, so scraping stays cheap however often it comes.

Updating an event metric costs a few microseconds (one dictionary lookup per label set, kept
in :data:`_children`, and one addition, or one write to a memory-mapped file in multiprocess
mode): measured 4-6 µs per job (7-11 µs in multiprocess mode) on the shared 2-core machine,
against about 500 µs per job at 2,000 jobs/s, i.e. 1-2 % (README "Metrics").
"""

import hmac
import os
import threading
import time
from datetime import timedelta
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import and_, func, or_, select

from app.core.dates import utcnow
from app.extensions import db
from app.models.tables import batch_table, historic_batch_table, job_table, worker_table

# No "<name>_created" series beside each counter and histogram: they double the scrape's size
# and Prometheus does not need them to compute rates.
disable_created_metrics()

PREFIX = "jobservice"
# Job durations from a no-op handler (well under a millisecond) to the default soft time limit.
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
                    300)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# One histogram for executions and their durations: its _count is the number of executions by
# handler type and outcome, so a job costs one observation, not an observation and a count.
JOB_EXECUTIONS = Histogram(f"{PREFIX}_job_execution_duration_seconds", "Jobs run by the executor, by handler "
                           "type and outcome (done, failed, skipped: changed or taken over while it ran), and "
                           "the time from a job's start to its commit", ["handler_type", "outcome"],
                           buckets=DURATION_BUCKETS)
ACQUISITION_ROUNDS = Counter(f"{PREFIX}_acquisition_rounds", "Acquisition rounds run by the executors, by "
                             "result (jobs: it locked at least one job; empty)", ["result"])
ACQUIRED_JOBS = Counter(f"{PREFIX}_acquired_jobs", "Jobs locked by acquisition rounds")
TAKEN_OVER_JOBS = Counter(f"{PREFIX}_taken_over_jobs", "Jobs an acquisition round took over from another owner: "
                          "a dead worker's, or an expired lock's (PostgreSQL; each takeover is counted once, by "
                          "the process that made it)")
DEAD_WORKERS_NOTICED = Counter(f"{PREFIX}_dead_workers_noticed", "Dead workers noticed by a live worker process's "
                               "maintenance (each live process counts each death it notices; their jobs are taken "
                               "over by the next round)")
HTTP_REQUESTS = Counter(f"{PREFIX}_http_requests", "HTTP requests by method, route template and status",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram(f"{PREFIX}_http_request_duration_seconds", "Time to answer an HTTP request (until the "
                          "response starts; a streamed list's body is not included)", ["method", "route"],
                          buckets=HTTP_BUCKETS)

# label values -> child metric: prometheus_client's own .labels() lookup takes a lock and
# builds a tuple each time; the executor calls these thousands of times a second.
_children = {}


def _child(metric, *labels):
    key = (metric, labels)
    child = _children.get(key)
    if child is None:
        child = _children.setdefault(key, metric.labels(*labels))
    return child


def observe_job(handler_type, outcome, seconds):
    _child(JOB_EXECUTIONS, handler_type, outcome).observe(seconds)


def observe_round(acquired, taken_over=0):
    _child(ACQUISITION_ROUNDS, "jobs" if acquired else "empty").inc()
    if acquired:
        ACQUIRED_JOBS.inc(acquired)
    if taken_over:
        TAKEN_OVER_JOBS.inc(taken_over)


def observe_dead_workers(count):
    if count:
        DEAD_WORKERS_NOTICED.inc(count)


def observe_request(method, route, status, seconds):
    _child(HTTP_REQUESTS, method, route, str(status)).inc()
    _child(HTTP_DURATION, method, route).observe(seconds)


# --- state, read from the database at scrape time --------------------------------------------

def job_state_counts(now, dead_before):
    """Jobs by state in one pass over the job table. The states overlap (a failed job may also
    be suspended); ``executable`` is what waits for a worker right now."""
    c = job_table.c
    due = or_(c.due_date.is_(None), c.due_date <= now)
    free = or_(c.lock_expiration_time.is_(None), c.lock_expiration_time < now)
    runnable = and_(c.retries > 0, c.suspended.is_(False), free)
    dead_owner = c.lock_owner.in_(select(worker_table.c.id).where(worker_table.c.heartbeat_at < dead_before))
    counts = {
        "executable": and_(runnable, due),
        "locked": c.lock_expiration_time >= now,
        "failed": c.retries == 0,
        "suspended": c.suspended.is_(True),
        "timer_due": and_(runnable, c.due_date.is_not(None), c.due_date <= now),
        "timer_waiting": c.due_date > now,
        "held_by_dead_worker": and_(c.lock_expiration_time >= now, dead_owner),
    }
    row = db.session.execute(select(*(func.count().filter(condition).label(name)
                                      for name, condition in counts.items()))).one()
    return dict(row._mapping)


def batch_counts():
    """Per batch type: running batches, suspended ones, their remaining elements, and completed
    (historic) batches. A batch's remaining elements are its unfinished slices (execution jobs
    still there plus those not created yet) times its slice size, at most its element count."""
    b = batch_table.c
    open_jobs = (select(func.count()).where(job_table.c.job_definition_id == b.batch_job_definition_id)
                 .scalar_subquery())
    # The smaller of two values: least() on PostgreSQL, min() with two arguments on SQLite.
    smaller = func.least if db.session.get_bind().dialect.name == "postgresql" else func.min
    remaining = smaller(b.element_count, (open_jobs + b.total_jobs - b.jobs_created) * b.invocations_per_batch_job)
    per_batch = select(b.type, b.suspended, remaining.label("remaining")).subquery()
    running = db.session.execute(
        select(per_batch.c.type, func.count(), func.count().filter(per_batch.c.suspended.is_(True)),
               func.coalesce(func.sum(per_batch.c.remaining), 0))
        .group_by(per_batch.c.type)).all()
    h = historic_batch_table.c
    completed = db.session.execute(
        select(h.type, func.count()).where(h.end_time.is_not(None)).group_by(h.type)).all()
    return {"running": {row[0]: (row[1], row[2], int(row[3])) for row in running},
            "completed": dict(completed)}


def worker_counts(dead_before):
    w = worker_table.c
    row = db.session.execute(select(func.count().filter(w.heartbeat_at >= dead_before),
                                    func.count().filter(w.heartbeat_at < dead_before))).one()
    return {"live": row[0], "dead": row[1]}


def database_state(dead_worker_seconds):
    now = utcnow()
    dead_before = now - timedelta(seconds=dead_worker_seconds)
    try:
        return {"jobs": job_state_counts(now, dead_before), "batches": batch_counts(),
                "workers": worker_counts(dead_before)}
    finally:
        db.session.rollback()


class _StateCache:
    """The database state of the last scrape, reused for ``max_age`` seconds (per process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._value = None
        self._read_at = 0.0

    def get(self, max_age, read):
        with self._lock:
            if self._value is None or time.monotonic() - self._read_at >= max_age:
                started = time.monotonic()
                self._value = read()
                self._value["seconds"] = time.monotonic() - started
                self._read_at = time.monotonic()
            return self._value

    def clear(self):
        with self._lock:
            self._value = None


def state_cache(app):
    """The app's cache of the database state (one per app, so each test app has its own)."""
    return app.extensions.setdefault("metrics_state_cache", _StateCache())


def state_families(state):
    jobs = GaugeMetricFamily(f"{PREFIX}_jobs", "Jobs by state (states overlap; executable: waiting for a worker "
                             "now; held_by_dead_worker: to be taken over)", labels=["state"])
    for name, value in state["jobs"].items():
        jobs.add_metric([name], value)
    batches = GaugeMetricFamily(f"{PREFIX}_batches", "Runtime batches by type and state (running includes "
                                "suspended)", labels=["type", "state"])
    remaining = GaugeMetricFamily(f"{PREFIX}_batch_remaining_elements", "Elements (target jobs) the running "
                                  "batches of a type have still to process", labels=["type"])
    for batch_type, (running, suspended, left) in sorted(state["batches"]["running"].items()):
        batches.add_metric([batch_type, "running"], running)
        batches.add_metric([batch_type, "suspended"], suspended)
        remaining.add_metric([batch_type], left)
    completed = GaugeMetricFamily(f"{PREFIX}_batches_completed", "Completed batches kept in history, by type",
                                  labels=["type"])
    for batch_type, count in sorted(state["batches"]["completed"].items()):
        completed.add_metric([batch_type], count)
    workers = GaugeMetricFamily(f"{PREFIX}_workers", "Registered executor processes by state (dead: heartbeat "
                                "older than JOB_DEAD_WORKER_SECONDS)", labels=["state"])
    for name, value in state["workers"].items():
        workers.add_metric([name], value)
    seconds = GaugeMetricFamily(f"{PREFIX}_metrics_database_seconds", "Time the last read of the database "
                                "state took (cached for METRICS_CACHE_SECONDS)")
    seconds.add_metric([], state["seconds"])
    return [jobs, batches, remaining, completed, workers, seconds]


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def multiprocess_dir():
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(app):
    """``(body, content type)`` of a scrape: this machine's event metrics (every process of the
    multiprocess directory, or this process) and the database state."""
    config = app.config
    if multiprocess_dir():
        events = CollectorRegistry()
        multiprocess.MultiProcessCollector(events)
    else:
        events = REGISTRY
    state = state_cache(app).get(config["METRICS_CACHE_SECONDS"],
                                 lambda: database_state(config["JOB_DEAD_WORKER_SECONDS"]))
    state_registry = CollectorRegistry(auto_describe=False)
    state_registry.register(_Families(state_families(state)))
    return generate_latest(events) + generate_latest(state_registry), CONTENT_TYPE_LATEST


# --- a worker's own endpoint (WORKER_METRICS_PORT) --------------------------------------------

def bearer_token_matches(header, token):
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def worker_metrics_app(token):
    """A WSGI app serving the event metrics of every process of this machine's multiprocess
    directory (a worker's pool children) at ``/metrics``; with ``token``, only to
    ``Authorization: Bearer <token>``. No database state: the web serves that."""

    def application(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found: GET /metrics\n"]
        if token and not bearer_token_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"Send the metrics token: Authorization: Bearer <METRICS_TOKEN>\n"]
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")])
        return [generate_latest(registry)]

    return application


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        """A scrape every few seconds is not an event (an idle worker logs nothing at INFO)."""


def serve_worker_metrics(host, port, token):
    """Serve :func:`worker_metrics_app` on ``host:port`` in a daemon thread; returns the server."""
    server = make_server(host, port, worker_metrics_app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="jobservice-metrics", daemon=True).start()
    return server
