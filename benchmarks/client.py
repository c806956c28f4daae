"""The HTTP client of the harness: ``http.client`` with one keep-alive connection per client.

``requests`` is only a test dependency, and ``make bench`` installs the service without the
test extra.

The service runs with authentication on (benchmarks.processes): every request sends HTTP Basic
credentials, the administrator's that the Procfile's release line creates (:data:`ADMIN`).
"""

import base64
import http.client
import json
import time

from benchmarks.common import BenchError

REST = "/engine-rest"
# The administrator of the benchmark's service (JOBSERVICE_ADMIN_USER / _PASSWORD of its release line).
ADMIN = ("benchadmin", "bench-admin-secret")


def basic_authorization(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Response:
    __slots__ = ("status", "body", "seconds", "headers")

    def __init__(self, status, body, seconds, headers):
        self.status = status
        self.body = body
        self.seconds = seconds
        self.headers = headers

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

    def __init__(self, port, timeout=600.0, credentials=ADMIN):
        self.port = port
        self.timeout = timeout
        self._conn = None
        self._auth = {"Authorization": basic_authorization(*credentials)} if credentials else {}

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
        headers = {**self._auth, "Content-Type": "application/json"} if data is not None else dict(self._auth)
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
                return Response(response.status, payload, seconds, dict(response.getheaders()))
            except self.RETRYABLE:
                self.close()
                if attempt == 2 or not retry:
                    raise
        raise AssertionError("unreachable")

    def stream(self, path, on_chunk, chunk_size=65536, max_seconds=3600.0):
        """GET ``path`` chunk by chunk (never held whole); returns (status, seconds, time to first byte)."""
        self.close()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            started = time.perf_counter()
            conn.request("GET", path, headers=self._auth)
            response = conn.getresponse()
            first_byte = None
            deadline = started + max_seconds
            while chunk := response.read1(chunk_size):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                on_chunk(chunk)
                if time.perf_counter() > deadline:
                    raise BenchError(f"streaming {path} took longer than {max_seconds:.0f} s")
            return response.status, time.perf_counter() - started, first_byte
        finally:
            conn.close()
