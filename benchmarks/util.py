"""Small helpers shared by the benchmark modules: HTTP client, database access, statistics.

The HTTP client is ``http.client`` with one keep-alive connection per client: ``requests`` is
only a test dependency, and ``make bench`` installs the service without the test extra.
"""

import http.client
import json
import math
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class BenchError(RuntimeError):
    """The harness cannot go on (a process died, a deadline passed, a check failed)."""


# --- statistics -----------------------------------------------------------------------------

def percentile(values, fraction):
    """Linear-interpolated percentile (``fraction`` in 0..1) of a non-empty sequence."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values):
    return percentile(values, 0.5)


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    """Poll ``predicate`` until truthy; bounded by time (and so by count). Returns its value."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / max(interval, 0.001)) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- database -------------------------------------------------------------------------------

def check_loopback_url(url, what):
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise BenchError(f"{what} must point at this machine (127.0.0.1), got host {host!r}")


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def connect(url, autocommit=False):
    import psycopg2

    connection = psycopg2.connect(url, application_name="jobservice-bench")
    connection.autocommit = autocommit
    return connection


@contextmanager
def connection(url, autocommit=False):
    conn = connect(url, autocommit)
    try:
        yield conn
    finally:
        conn.close()


def scalar(conn, sql, params=None):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


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
    updates than ``before`` and unchanged over one second, or whatever is there at the deadline."""
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


# --- HTTP -----------------------------------------------------------------------------------

class Response:
    __slots__ = ("status", "body", "seconds")

    def __init__(self, status, body, seconds):
        self.status = status
        self.body = body
        self.seconds = seconds

    def json(self):
        return json.loads(self.body)

    def expect(self, *statuses):
        if self.status not in statuses:
            raise BenchError(f"HTTP {self.status} (expected {statuses}): {self.body[:500]!r}")
        return self


class HttpClient:
    """One keep-alive connection to 127.0.0.1:port. Not thread-safe: one client per thread."""

    RETRYABLE = (http.client.RemoteDisconnected, http.client.CannotSendRequest, ConnectionResetError,
                 BrokenPipeError, http.client.BadStatusLine)

    def __init__(self, port, timeout=600.0):
        self.port = port
        self.timeout = timeout
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self):
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self._conn

    def request(self, method, path, body=None, retry=True):
        """Send one request; ``seconds`` covers sending it and reading the whole response.

        ``retry``: resend once on a connection the server had closed (keep-alive expiry). Pass
        False for requests that must not run twice (creating a batch): they get a fresh connection.
        """
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if not retry:
            self.close()
        for attempt in (1, 2):
            conn = self._connection()
            try:
                started = time.perf_counter()
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                seconds = time.perf_counter() - started
                if response.will_close:
                    self.close()
                return Response(response.status, payload, seconds)
            except self.RETRYABLE:
                self.close()
                if attempt == 2 or not retry:
                    raise
        raise AssertionError("unreachable")

    def stream(self, method, path, on_chunk, chunk_size=65536, max_seconds=3600.0):
        """Read a response chunk by chunk (never held whole); returns (status, seconds, ttfb)."""
        self.close()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            started = time.perf_counter()
            conn.request(method, path)
            response = conn.getresponse()
            first_byte = None
            deadline = started + max_seconds
            while True:
                chunk = response.read1(chunk_size) if hasattr(response, "read1") else response.read(chunk_size)
                if not chunk:
                    break
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                on_chunk(chunk)
                if time.perf_counter() > deadline:
                    raise BenchError(f"streaming {path} took longer than {max_seconds:.0f} s")
            return response.status, time.perf_counter() - started, first_byte
        finally:
            conn.close()
