"""The benchmark database: created if missing, schema dropped and rebuilt by the real
migrations, then N realistic jobs loaded by one ``INSERT ... SELECT generate_series``.

Every value is derived from the row number by ``hashint8extended`` (deterministic across runs),
so two runs with the same N load the same data; only dates move with the time of the run
(they are relative to ``anchor``, the load time). What the jobs look like:

* ids: md5-based UUID text (random order, like UUIDv4); about 3 jobs per process instance;
* 50 process definition keys with a skewed popularity (the most common about 14 % of the jobs,
  the rarest about 0.5 %), 3 versions each, 8 activities per key;
* tenants ``tenant-1`` .. ``tenant-7`` (10 % each) and no tenant (30 %);
* 30 % timers (due within +-30 days of the load), 70 % messages (due date null, or in the past
  for half of the failed ones); priority 0 for 90 %, 0..100 for the rest; create times over
  the 90 days before the load;
* 40 % failed: retries 0, an exception message (20 variants), a Python-style stack trace
  (about 3.2 kB of text, which PostgreSQL stores compressed in the row, about 300 bytes) and
  ``failed_activity_id``; 10 % failed before but still have retries (1 or 2); 3 % suspended.
  A row is about 550 bytes on average;
* handler types ``bench.work`` (messages) and ``bench.timer`` (timers), which no worker
  serves, so the executor never runs the jobs a batch revives during the benchmark;
* one job definition per (key, activity, handler type), one ``failedJob`` incident per
  failed job.
"""

import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from benchmarks.common import BenchError
from benchmarks.db import connection, database_name, scalar, vacuum
from benchmarks.processes import run_release

FAILED_PERCENT = 40
KEY_COUNT = 50
TENANT_COUNT = 7

MESSAGES = [
    "Connection refused: billing-service:8443",
    "Read timed out after 30000 ms: inventory-api",
    "HTTP 503 Service Unavailable from payment-gateway",
    "HTTP 500 Internal Server Error from shipping-service",
    "Deadlock detected while updating ledger entry",
    "Customer record not found",
    "Invalid IBAN checksum",
    "Address validation failed: unknown postcode",
    "SMTP 421 Too many connections",
    "Certificate verify failed: unable to get local issuer certificate",
    "Quota exceeded for document-renderer",
    "Duplicate key value violates unique constraint \"uq_invoice_number\"",
    "Timeout waiting for lock on order",
    "JSON decode error: Expecting value: line 1 column 1 (char 0)",
    "KeyError: 'customerId'",
    "Permission denied for bucket archive-prod",
    "Name or service not known: crm.internal",
    "Payment declined: insufficient funds",
    "Unexpected status 409 from fulfilment-api",
    "Task worker crashed: out of memory",
]

_HASH = "(hashint8extended({arg}, {seed}) & 9223372036854775807)"


def _h(arg, seed):
    return _HASH.format(arg=arg, seed=seed)


JOBS_SQL = f"""
INSERT INTO job (id, revision, type, handler_type, handler_configuration, job_definition_id, due_date,
                 process_instance_id, execution_id, process_definition_id, process_definition_key,
                 activity_id, deployment_id, retries, exception_message, has_stacktrace,
                 failed_activity_id, suspended, priority, tenant_id, create_time, batch_id,
                 lock_owner, lock_expiration_time)
SELECT
    md5('bench-job-' || i)::uuid::text,
    CASE WHEN failed THEN 4 ELSE 1 END,
    CASE WHEN timer THEN 'timer' ELSE 'message' END,
    handler,
    json_build_object('activityId', activity),
    md5('jd|' || key || '|' || activity || '|' || handler)::uuid::text,
    CASE WHEN timer THEN anchor + make_interval(secs => due_offset - 30 * 86400)
         WHEN failed AND r_retry < 50 THEN anchor - make_interval(secs => due_offset %% (7 * 86400))
    END,
    md5('pi|' || pi)::uuid::text,
    md5('ex|' || i)::uuid::text,
    key || ':' || ver || ':' || md5('pd|' || key || ver)::uuid::text,
    key,
    activity,
    md5('dep|' || key || ver)::uuid::text,
    CASE WHEN failed THEN 0 WHEN r_retry < 10 THEN 1 + r_retry %% 2 ELSE 3 END,
    CASE WHEN failed OR r_retry < 10 THEN (%(messages)s::text[])[msg + 1] END,
    failed OR r_retry < 10,
    CASE WHEN failed OR r_retry < 10 THEN activity END,
    r_susp < 3,
    CASE WHEN r_prio = 0 THEN prio ELSE 0 END,
    CASE WHEN ten < 3 THEN NULL ELSE 'tenant-' || (ten - 2) END,
    anchor - make_interval(secs => create_offset_ms / 1000.0),
    NULL, NULL, NULL
FROM (
    SELECT h.*,
           'process-' || lpad(k::text, 2, '0') AS key,
           'Task_' || lpad(k::text, 2, '0') || '_' || act AS activity,
           r_fail < {FAILED_PERCENT} AS failed,
           r_type < 3 AS timer,
           CASE WHEN r_type < 3 THEN 'bench.timer' ELSE 'bench.work' END AS handler
    FROM (
        SELECT i, pi, %(anchor)s::timestamp AS anchor,
               {_h('i', 1)} %% 100 AS r_fail,
               {_h('i', 2)} %% 100 AS r_susp,
               {_h('i', 3)} %% 100 AS r_retry,
               {_h('i', 4)} %% 8 AS act,
               {_h('i', 5)} %% 10 AS r_type,
               {_h('i', 6)} %% (60 * 86400) AS due_offset,
               {_h('i', 7)} %% 10 AS r_prio,
               {_h('i', 8)} %% 101 AS prio,
               {_h('i', 9)} %% (90 * 86400000::bigint) AS create_offset_ms,
               {_h('i', 10)} %% {len(MESSAGES)} AS msg,
               floor({KEY_COUNT} * power(({_h('pi', 11)} %% 1000000) / 1000000.0, 2))::int AS k,
               1 + {_h('pi', 12)} %% 3 AS ver,
               {_h('pi', 13)} %% 10 AS ten
        FROM (SELECT i, (i - 1) / 3 AS pi FROM generate_series(1, %(n)s) AS i) AS numbers
    ) AS h
) AS job_rows
"""

# The jobs with an exception message get a stack trace, kept beside the job (migration 0004).
STACKTRACES_SQL = """
INSERT INTO job_stacktrace (job_id, stacktrace)
SELECT id,
       'Traceback (most recent call last):' || E'\\n'
       || repeat(format(E'  File "/srv/workers/%s/%s.py", line %s, in handle\\n'
                        || E'    response = session.post(endpoint, json=payload, timeout=30)\\n',
                        process_definition_key, lower(activity_id), 100 + length(exception_message) * 7), 24)
       || 'bench.errors.ServiceError: ' || exception_message
FROM job WHERE {where} AND exception_message IS NOT NULL
"""

JOB_DEFINITIONS_SQL = """
INSERT INTO job_definition (id, activity_id, job_type, job_configuration, process_definition_id,
                            process_definition_key, suspended, overriding_priority, tenant_id, deployment_id)
SELECT DISTINCT ON (job_definition_id)
       job_definition_id, activity_id, handler_type, NULL, process_definition_id,
       process_definition_key, false, NULL, NULL, deployment_id
FROM job
WHERE job_definition_id IS NOT NULL
ORDER BY job_definition_id, process_definition_id DESC
"""

# One failedJob incident per job at 0 retries; also used to restore them (scenario 2).
INCIDENTS_SQL = """
INSERT INTO incident (id, incident_type, incident_message, incident_timestamp, configuration,
                      job_definition_id, process_instance_id, execution_id, process_definition_id,
                      activity_id, failed_activity_id, tenant_id)
SELECT md5('inc|' || id)::uuid::text, 'failedJob', exception_message, create_time, id,
       job_definition_id, process_instance_id, execution_id, process_definition_id,
       activity_id, failed_activity_id, tenant_id
FROM job
WHERE {where}
"""


def ensure_database(url):
    """Create the benchmark database when it does not exist (connecting to ``postgres``)."""
    name = database_name(url)
    if not name:
        raise BenchError(f"--database-url names no database: {url}")
    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with connection(maintenance, autocommit=True) as conn:
        if scalar(conn, "SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
            return False
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg2.errors.DuplicateDatabase:
            return False
    return True


def reset_schema(url):
    """Drop everything in the benchmark database (its ``public`` schema) and recreate it empty."""
    name = database_name(url)
    if "bench" not in name:
        raise BenchError(f"refusing to drop the schema of database {name!r}: its name must contain 'bench'")
    with connection(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cursor.execute("CREATE SCHEMA public")


def prepare(url, redis_url, work_dir):
    """An empty ``public`` schema brought to the newest migration by the Procfile's release line."""
    created = ensure_database(url)
    reset_schema(url)
    run_release(url, redis_url, work_dir / f"release-{database_name(url)}.log")
    return created


def load(url, n):
    """Fill ``n`` jobs, their job definitions and incidents; VACUUM ANALYZE. Returns facts."""
    timings = {}
    with connection(url) as conn:
        with conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT date_trunc('milliseconds', now() AT TIME ZONE 'UTC')")
            anchor = cursor.fetchone()[0]
            steps = (("jobs", JOBS_SQL, {"n": n, "anchor": anchor, "messages": MESSAGES}),
                     ("stack traces", STACKTRACES_SQL.format(where="TRUE"), None),
                     ("job definitions", JOB_DEFINITIONS_SQL, None),
                     ("incidents", INCIDENTS_SQL.format(where="retries = 0"), None))
            for name, statement, params in steps:
                started = time.perf_counter()
                cursor.execute(statement, params)
                timings[name] = time.perf_counter() - started
        conn.commit()
    started = time.perf_counter()
    vacuum(url, "job", "job_stacktrace", "job_definition", "incident", analyze=True)
    timings["vacuum analyze"] = time.perf_counter() - started
    facts = dict(data_facts(url), anchor=anchor, timings=timings)
    if facts["jobs"] != n:
        raise BenchError(f"loaded {facts['jobs']} jobs, expected {n}")
    return facts


FACTS = {
    "jobs": "SELECT count(*) FROM job",
    "failed": "SELECT count(*) FROM job WHERE retries = 0",
    "suspended": "SELECT count(*) FROM job WHERE suspended",
    "timers": "SELECT count(*) FROM job WHERE type = 'timer'",
    "job_definitions": "SELECT count(*) FROM job_definition",
    "incidents": "SELECT count(*) FROM incident",
    "job_table_bytes": "SELECT pg_table_size('job')",
    "job_total_bytes": "SELECT pg_total_relation_size('job')",
}


def data_facts(url):
    with connection(url) as conn:
        return {name: scalar(conn, statement) for name, statement in FACTS.items()}


def failed_at_load(conn, rows):
    """The ids of the jobs that failed at load among the first ``rows`` generated rows (the
    same hash as JOBS_SQL), in load (and so physical) order; later runs change no row's id."""
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT md5('bench-job-' || i)::uuid::text FROM generate_series(1, %(rows)s) AS i "
                       f"WHERE {_h('i', 1)} %% 100 < {FAILED_PERCENT} ORDER BY i", {"rows": rows})
        return [row[0] for row in cursor.fetchall()]


def restore_failed(conn, job_ids):
    """Put ``job_ids`` back to 0 retries with one failedJob incident each (the reset of
    scenarios 2 and 7, and of scenario 1's profiled re-run)."""
    with conn.cursor() as cursor:
        cursor.execute("UPDATE job SET retries = 0, revision = revision + 1 WHERE id = ANY(%s)", (job_ids,))
        cursor.execute("DELETE FROM incident WHERE incident_type = 'failedJob' AND configuration = ANY(%s)",
                       (job_ids,))
        cursor.execute(INCIDENTS_SQL.format(where="id = ANY(%(ids)s)"), {"ids": job_ids})
    conn.commit()
