"""A private redis-server and a private PostgreSQL cluster for the fault tests.

The fault tests stop and start a broker or a database under running workers. They never touch
the machine's shared servers: each test starts its own on a free port, in a directory of its
own, and removes it afterwards. A binary that is missing fails the test (CI must have it);
``find_binary`` also looks where Debian installs PostgreSQL (/usr/lib/postgresql/<version>/bin).
"""

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

POSTGRES_USER = "postgres"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name):
    """Path of ``name`` on PATH or in the newest /usr/lib/postgresql/*/bin; fails the test if absent."""
    found = shutil.which(name)
    if found:
        return found

    def version(path):
        match = re.search(r"/postgresql/(\d+)", path)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if candidates:
        return candidates[-1]
    pytest.fail(f"{name} is not installed (PATH, /usr/lib/postgresql/*/bin): the fault tests need it; "
                "install redis-server / postgresql")


def _wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _accepts_connections(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """``redis-server --save "" --appendonly no`` on its own port: a restart loses every message."""

    def __init__(self):
        self.binary = find_binary("redis-server")
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_until(lambda: _accepts_connections(self.port), 20, f"redis-server on port {self.port}")
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


class PrivatePostgres:
    """A throw-away cluster: ``initdb`` and ``pg_ctl`` as the ``postgres`` OS user (PostgreSQL
    refuses to run as root), trust authentication, its own port and socket directory."""

    def __init__(self):
        self.initdb = find_binary("initdb")
        self.pg_ctl = find_binary("pg_ctl")
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres user must be able to enter the directory.
        self.base = Path(tempfile.mkdtemp(prefix="jobservice-pg-"))
        self.data = self.base / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam(POSTGRES_USER)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)

    def url(self, database="postgres"):
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command):
        if self._as_postgres:
            command = ("runuser", "-u", POSTGRES_USER, "--", *command)
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed ({completed.returncode}):\n"
                                 f"{completed.stdout}\n{completed.stderr}")
        return completed

    def init(self):
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", POSTGRES_USER, "-E", "UTF8", "--no-sync")
        return self

    def start(self):
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=60")
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.base / "server.log"), "-w", "-t", "60",
                  "-o", options, "start")
        return self

    def stop(self):
        """``-m fast``: every connection is cut, as in a real restart."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name):
        connection = psycopg2.connect(self.url())
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def destroy(self):
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
