"""Database access for the harness: plain psycopg2 on the benchmark's own database.

The harness reads and writes the product's tables only with its own SQL (baselines, data,
checks); it never goes through the product's models.
"""

import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg2

from benchmarks.common import BenchError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_loopback_url(url, what):
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise BenchError(f"{what} must point at this machine (127.0.0.1), got host {host!r}")


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def connect(url, autocommit=False):
    conn = psycopg2.connect(url, application_name="jobservice-bench")
    conn.autocommit = autocommit
    return conn


@contextmanager
def connection(url, autocommit=False):
    conn = connect(url, autocommit)
    try:
        yield conn
    finally:
        conn.close()


def rows(conn, sql, params=None):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def scalar(conn, sql, params=None):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def scalar_at(url, sql, params=None):
    """One value on a connection of its own (committed, closed)."""
    with connection(url, autocommit=True) as conn:
        return scalar(conn, sql, params)


def timed_execute(conn, sql, params=None, fetch=False):
    """Seconds to execute ``sql`` (and fetch every row when ``fetch``); returns (seconds, result)."""
    with conn.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, params)
        result = cursor.fetchall() if fetch else cursor.rowcount
        return time.perf_counter() - started, result


def vacuum(url, *tables, analyze=False, checkpoint=True):
    """VACUUM (never FULL) the tables, then CHECKPOINT so the next timed phase does not pay
    the full-page writes the previous one would otherwise have left to it."""
    with connection(url, autocommit=True) as conn, conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {'(ANALYZE) ' if analyze else ''}{table}")
        if checkpoint:
            cursor.execute("CHECKPOINT")


def table_update_counters(url, table="job"):
    """(n_tup_upd, n_tup_hot_upd) of ``table``, read afresh (no cached stats snapshot)."""
    with connection(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s", (table,))
        row = cursor.fetchone()
        return (row[0], row[1]) if row else (0, 0)


def settled_update_counters(url, before, expected_updates, timeout=20.0):
    """Counters once the backends have flushed their statistics (PostgreSQL 15 flushes a
    backend's counts about a second after it goes idle): at least ``expected_updates`` more
    updates than ``before`` and unchanged over one second, or whatever is there at the deadline.
    Returns (counters, settled)."""
    deadline = time.monotonic() + timeout
    previous = None
    current = table_update_counters(url)
    for _ in range(int(timeout) + 2):
        if current[0] - before[0] >= expected_updates and current == previous:
            return current, True
        if time.monotonic() >= deadline:
            return current, False
        time.sleep(1.0)
        previous, current = current, table_update_counters(url)
    return current, False


def hot_share(before, after):
    """(share of HOT updates, updates) between two counter readings."""
    updates = after[0] - before[0]
    return (after[1] - before[1]) / updates if updates else float("nan"), updates
