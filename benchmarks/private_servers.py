"""A PostgreSQL cluster and a Redis server of the harness's own, for the recovery scenarios,
which stop and start them mid-batch. The machine's shared servers are never touched.

PostgreSQL: ``initdb`` and ``pg_ctl`` run as the ``postgres`` OS user (``runuser``) on a data
directory under /tmp, trust authentication, listening on 127.0.0.1 at its own port only.
Redis: ``redis-server`` on its own port with no persistence (``--save "" --appendonly no``):
stopping it loses every queued message, which is the point of R2. Both are removed when the
harness exits, however it exits.
"""

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import redis

from benchmarks.common import BenchError, wait_until
from benchmarks.processes import ManagedProcess

PG_BIN = Path("/usr/lib/postgresql")
PG_USER = "postgres"


def _port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _pg_tool(name):
    versions = sorted((path for path in PG_BIN.glob("*/bin") if (path / name).exists()),
                      key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    if not versions:
        raise BenchError(f"no PostgreSQL {name} under {PG_BIN}/*/bin")
    return str(versions[-1] / name)


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` on port ``port``; :attr:`url` names ``database`` on it."""

    def __init__(self, port, database):
        if not _port_is_free(port):
            raise BenchError(f"port {port} is in use: choose another with --recovery-pg-port")
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="jobservice-bench-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.url = f"postgresql://{PG_USER}@127.0.0.1:{port}/{database}"
        shutil.chown(self.root, PG_USER, PG_USER)
        atexit.register(self.remove)
        self._as_postgres(_pg_tool("initdb"), "-D", self.data, "-A", "trust", "-U", PG_USER, "-E", "UTF8",
                          "--locale=C", "--no-sync")
        self.start()

    def _as_postgres(self, *command, timeout=120):
        result = subprocess.run(["runuser", "-u", PG_USER, "--", *map(str, command)], capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode:
            raise BenchError(f"{Path(str(command[0])).name} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def start(self):
        """Start and wait until it accepts connections (``pg_ctl -w``)."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._as_postgres(_pg_tool("pg_ctl"), "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")

    def stop(self):
        """Fast shutdown: every connection is closed at once, as in a restart or failover."""
        self._as_postgres(_pg_tool("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def running(self):
        return (self.data / "postmaster.pid").exists()

    def version(self):
        return self._as_postgres(_pg_tool("postgres"), "--version").strip()

    def remove(self):
        if self.root is None:
            return
        try:
            if self.running():
                self.stop()
        except (BenchError, subprocess.SubprocessError) as exc:
            print(f"warning: could not stop the private PostgreSQL in {self.data}: {exc}")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


class PrivateRedis:
    """``redis-server`` without persistence on port ``port``; :attr:`url` is its database 0."""

    def __init__(self, port, work_dir):
        if not _port_is_free(port):
            raise BenchError(f"port {port} is in use: choose another with --recovery-redis-port")
        if shutil.which("redis-server") is None:
            raise BenchError("redis-server is not installed")
        self.port = port
        self.work_dir = work_dir
        self.dir = tempfile.mkdtemp(prefix="jobservice-bench-redis-", dir="/tmp")
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None
        self.starts = 0
        atexit.register(self.remove)
        self.start()

    def start(self):
        """Start and wait until it answers PING."""
        self.starts += 1
        command = (f"exec redis-server --port {self.port} --bind 127.0.0.1 --save '' --appendonly no "
                   f"--dir {self.dir}")
        self.process = ManagedProcess("redis", command, dict(os.environ),
                                      self.work_dir / f"redis-{self.port}-{self.starts}.log")
        client = redis.Redis(port=self.port, socket_connect_timeout=1)

        def answers():
            self.process.check_alive()
            try:
                return client.ping()
            except redis.RedisError:
                return False

        try:
            wait_until(answers, timeout=30, interval=0.05, what=f"redis-server on port {self.port}")
        finally:
            client.close()

    def stop(self):
        """SIGTERM: Redis exits without saving (no persistence configured); its queues are gone."""
        if self.process is not None:
            self.process.stop(grace=10)
            self.process = None

    def version(self):
        client = redis.Redis(port=self.port, socket_connect_timeout=3)
        try:
            return client.info("server").get("redis_version")
        finally:
            client.close()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
