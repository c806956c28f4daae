"""A relay in front of PostgreSQL that records the SQL the service's processes send.

Some baselines are "the same SQL as the product, alone": the query a ``POST /job`` runs, the
statements of one batch slice. Rather than calling the product's functions in-process, the
harness starts web or worker processes whose ``DATABASE_URL`` points at this relay: it passes
every byte through unchanged and keeps the text of each query message (psycopg2 interpolates
the parameters on the client and sends simple ``Q`` messages; ``P`` messages of the extended
protocol are kept too). The relay is used only to capture statements, never while timing
(each round trip through it costs a thread hop). SSL and GSS encryption are switched off in
the URL it hands out, or there would be nothing to read.
"""

import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

from benchmarks.processes import free_port

UNTYPED_REQUESTS = (80877103, 80877104)  # SSLRequest, GSSENCRequest: the startup packet follows
CANCEL_REQUEST = 80877102


class SqlTap:
    """``with SqlTap(url) as tap``: ``tap.url`` for the processes, ``tap.take()`` the SQL so far."""

    def __init__(self, database_url):
        parts = urlsplit(database_url)
        self.target = (parts.hostname, parts.port or 5432)
        self.port = free_port()
        query = "sslmode=disable&gssencmode=disable" + (f"&{parts.query}" if parts.query else "")
        netloc = f"{parts.username}@127.0.0.1:{self.port}" if parts.username else f"127.0.0.1:{self.port}"
        self.url = urlunsplit(parts._replace(netloc=netloc, query=query))
        self._statements = []
        self._lock = threading.Lock()
        self._sockets = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, name="sqltap-accept", daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def take(self):
        """The statements recorded since the last call, oldest first."""
        with self._lock:
            taken, self._statements = self._statements, []
        return taken

    def close(self):
        for sock in [self._listener] + self._sockets:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, False), daemon=True).start()

    def _relay(self, source, sink, from_client):
        parser = _ClientStream(self._record) if from_client else None
        try:
            while data := source.recv(65536):
                if parser is not None:
                    parser.feed(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _record(self, sql):
        with self._lock:
            self._statements.append(sql)


class _ClientStream:
    """The frontend's side of the protocol: untyped startup packets, then typed messages."""

    def __init__(self, on_sql):
        self.on_sql = on_sql
        self.buffer = b""
        self.started = False

    def feed(self, data):
        self.buffer += data
        while self._next_message():
            pass

    def _next_message(self):
        header = 4 if not self.started else 5
        if len(self.buffer) < header:
            return False
        length = struct.unpack("!I", self.buffer[header - 4:header])[0]
        end = header - 4 + length
        if len(self.buffer) < end:
            return False
        message, self.buffer = self.buffer[:end], self.buffer[end:]
        if not self.started:
            code = struct.unpack("!I", message[4:8])[0]
            self.started = code not in UNTYPED_REQUESTS + (CANCEL_REQUEST,)
        elif message[:1] == b"Q":
            self.on_sql(message[5:-1].decode(errors="replace"))
        elif message[:1] == b"P":
            self.on_sql(message[5:].split(b"\0")[1].decode(errors="replace"))
        return True
