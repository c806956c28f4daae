"""The executor runtime of one worker process: rounds, heartbeats and the sweep.

Every process that executes jobs (each Celery pool child, see workers/celery_app.py) runs one
:class:`ExecutorRuntime` with two threads (three on PostgreSQL):

* **The executor thread** sleeps until it is woken (a broker hint, a commit in this process)
  or until ``JOB_SWEEP_INTERVAL_SECONDS`` pass (the sweep), then runs rounds until a round
  comes back short: it acquires a round for its own worker id and runs each job in its own
  transaction, in this thread. No job travels through the broker, so the database sets the
  pace, and a lost hint costs at most one sweep interval. A round is sized to take about
  ``JOB_ROUND_SECONDS`` at the job durations this process has measured (at most
  ``JOB_ACQUISITION_SIZE`` jobs): many fast jobs per statement, few slow ones, so that a long
  round never sits on jobs other processes could run, and a job of higher priority that
  arrives meanwhile waits about one round at most.
* **The listener thread** (PostgreSQL, ``JOB_WAKE_NOTIFY``) waits on a connection of its own
  that LISTENs for the wake-up NOTIFY every commit that makes work visible sends
  (app.services.dispatch), and wakes the executor thread the moment one arrives: an idle
  worker starts a new job within milliseconds, with no broker hop. After a reconnect it wakes
  the executor once, since notifications sent meanwhile are lost.
* **The heartbeat thread** rewrites this worker's row every ``JOB_HEARTBEAT_INTERVAL_SECONDS``,
  keeps the locks of the jobs it holds from expiring while a long handler runs, and, every
  sweep interval, notices dead workers and purges their rows once their locks have expired.
  A dead worker's jobs are taken over by the acquisition itself (see
  app.services.executor.acquire).

When a round is full, or a commit in this process made work visible (a seed created execution
jobs, a failure left retries), the runtime sends ONE wake-up at its next round, so that idle
processes elsewhere join in: a NOTIFY on its own connection where wake-ups travel that way
(never inside the commit: PostgreSQL serialises the commits of notifying transactions), else
an ``executor.acquire`` hint through the broker; the commits of this process only wake its own
executor (:class:`LocalWakeDispatcher`), never one message each.

Both threads survive database and broker outages: a failed attempt is logged once, retried with
a growing pause, and the round that was interrupted resumes where it stopped (its jobs are
still locked by this worker; whatever was half done was rolled back).
"""

import ctypes
import logging
import os
import select as io_select
import threading
import time
from collections import deque
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.core.dates import utcnow
from app.core.logs import job_context
from app.core.names import TASK_ACQUIRE
from app.extensions import db
from app.models.tables import worker_table
from app.services import job_log
from app.services.dispatch import WAKE_CHANNEL, WAKE_NOTIFY, notify_enabled
from app.services.executor import workers
from app.services.executor.acquire import acquire_round
from app.services.executor.execute import record_failure, run_job
from app.services.metrics import observe_dead_workers, observe_job, observe_round

log = logging.getLogger(__name__)

# Weight of the newest job duration in the moving average that sizes rounds.
DURATION_WEIGHT = 0.2
# How long a stopping worker waits for the job it is running before it gives the job up.
STOP_GRACE_SECONDS = 10.0
# Pauses after consecutive failed attempts: 0.5 s, 1 s, 2 s, ... up to this.
MAX_BACKOFF_SECONDS = 10.0
# A broker hint expires after this long: the sweep finds the work anyway.
HINT_EXPIRES_SECONDS = 60
# The listener thread looks at the stop flag this often while no notification comes.
LISTEN_POLL_SECONDS = 1.0


# Exit status of a worker process that gave up a handler stuck past its hard time limit.
EXIT_STUCK_HANDLER = 70


class JobTimeLimitExceeded(Exception):
    """Raised inside a handler that ran past ``TASK_SOFT_TIME_LIMIT``: the job fails."""


def _raise_in_thread(thread_id, exception_class):
    """Ask the interpreter to raise ``exception_class`` in thread ``thread_id`` at its next
    bytecode (``None``: cancel one not raised yet). This is what Celery's soft time limit does
    with a signal, which only reaches the main thread; the executor runs in its own."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception_class) if exception_class else None)


class LocalWakeDispatcher:
    """The dispatcher inside a worker process.

    A wake-up hint from a commit made in this process wakes this process's executor and asks it
    to pass one hint on through the broker at its next round (batched: one per round, however
    many commits asked). Every other task goes to the broker unchanged.
    """

    def __init__(self, runtime, broker):
        self.runtime = runtime
        self.broker = broker

    def send(self, name, args=(), countdown=None, expires=None):
        if name == TASK_ACQUIRE and not args and countdown is None:
            self.runtime.wake(fan_out=True)
            return
        self.broker.send(name, args=args, countdown=countdown, expires=expires)


class _FailureLog:
    """Logs the first failure of a streak and the recovery, not every retry in between."""

    def __init__(self, what, expected=()):
        self.what = what
        self.expected = (DBAPIError, *expected)  # outages: one line, no traceback
        self.failures = 0

    def failed(self, error):
        self.failures += 1
        if self.failures == 1:
            # An outage explains itself in one line; anything else is a bug and needs its traceback.
            log.warning("%s failed (%s: %s); retrying with backoff", self.what, type(error).__name__,
                        str(error).strip().splitlines()[0] if str(error).strip() else "",
                        exc_info=not isinstance(error, self.expected))
        else:
            log.debug("%s failed again (%d in a row): %s", self.what, self.failures, error)
        return min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (self.failures - 1))

    def succeeded(self):
        if self.failures:
            log.warning("%s works again after %d failed attempts", self.what, self.failures)
        self.failures = 0


def _close_quietly(connection):
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection is gone anyway
            log.debug("closing the listener's connection failed", exc_info=True)


class ExecutorRuntime:
    """Runs the jobs of one worker process. ``start`` it once per process (after any fork)."""

    def __init__(self, app, worker_id=None):
        self.app = app
        self.config = app.config
        self.worker_id = worker_id or workers.new_worker_id()
        self._wake = threading.Event()
        self._idle = threading.Event()  # set while the executor thread waits for work
        self._stopping = threading.Event()
        self._heartbeat_stop = threading.Event()
        self._fan_out = False
        self._broker = None
        # Guards what the heartbeat thread reads of the executor thread's state.
        self._lock = threading.Lock()
        self._beat_lock = threading.Lock()
        self._round = deque()  # acquired jobs not finished yet; the head is the one running
        self._leased_at = 0.0  # monotonic time the round's locks were last set or extended
        self._last_beat = None  # monotonic time of the last successful heartbeat
        self._job_seconds = None  # moving average of a job's duration in this process
        self._broker_quiet_until = 0.0
        self._dead_seen = set()
        self._autocommit = None  # the executor thread's connection in autocommit mode
        self._in_handler = None  # (job, monotonic start, thread id) while a handler runs
        self._interrupted = False  # the soft time limit was sent to the running handler
        self._exit = os._exit  # replaced in tests
        self._executor_thread = None
        self._heartbeat_thread = None
        self._listener_thread = None
        self.notifies = False  # wake-ups travel as a PostgreSQL NOTIFY (set by start)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self):
        """Start both threads and route this process's wake-up hints through the runtime."""
        self._broker = self.app.extensions["dispatcher"]
        self.app.extensions["dispatcher"] = LocalWakeDispatcher(self, self._broker)
        self.app.extensions["executor_runtime"] = self
        self._heartbeat_thread = threading.Thread(target=self._heartbeat_loop, name="jobservice-heartbeat",
                                                  daemon=True)
        self._executor_thread = threading.Thread(target=self._executor_loop, name="jobservice-executor",
                                                 daemon=True)
        self._heartbeat_thread.start()
        self._wake.set()  # run a round at once: work may have waited while no worker ran
        self._executor_thread.start()
        with self.app.app_context():
            self.notifies = notify_enabled(db.engine)
        if self.notifies:
            self._listener_thread = threading.Thread(target=self._listen_loop, name="jobservice-listener",
                                                     daemon=True)
            self._listener_thread.start()
        log.debug("executor runtime %s started", self.worker_id)
        return self

    def wake(self, fan_out=False):
        """Work may be waiting: run rounds now. ``fan_out``: also wake the other workers."""
        if fan_out:
            self._fan_out = True
        self._idle.clear()
        self._wake.set()

    def wait_until_idle(self, timeout):
        """Block until the executor thread has run out of work (or ``timeout`` seconds pass);
        True if it is idle. See workers/executor.py for why a hint waits."""
        return self._idle.wait(timeout)

    def stop(self, grace=STOP_GRACE_SECONDS):
        """Finish the running job (up to ``grace`` seconds), give the rest of the round back and
        retire this worker's row, so that nobody waits for its heartbeat to go stale. A second
        call (a signal, then the pool's own shutdown) does nothing."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        if self._executor_thread is not None:
            self._executor_thread.join(grace)
        stuck = self._executor_thread is not None and self._executor_thread.is_alive()
        if not stuck:
            self.close_connection()  # its thread has ended (or rounds were run by the caller)
        self._heartbeat_stop.set()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(grace)
        if self._listener_thread is not None:
            self._listener_thread.join(min(grace, LISTEN_POLL_SECONDS + 1))
        self._idle.set()  # a hint still holding its pool child returns
        with self._lock:
            leftover = [job.id for job in self._round][1 if stuck else 0:]
        try:
            with self.app.app_context():
                workers.release_jobs(self.worker_id, leftover)
                workers.retire_worker(self.worker_id, still_holding=stuck)
        except Exception as error:  # noqa: BLE001 - the database may be down; the heartbeat goes stale then
            log.warning("worker %s could not retire (%s); its jobs are taken over once its heartbeat is stale",
                        self.worker_id, error)
        if self._broker is not None:
            self.app.extensions["dispatcher"] = self._broker
        if self.app.extensions.get("executor_runtime") is self:
            del self.app.extensions["executor_runtime"]  # this process runs no executor any more

    # --- the executor thread -------------------------------------------------------------------

    def _executor_loop(self):
        failures = _FailureLog(f"executor {self.worker_id}")
        while not self._stopping.is_set():
            if not failures.failures:
                if not self._wake.is_set():
                    self._idle.set()
                self._wake.wait(self.config["JOB_SWEEP_INTERVAL_SECONDS"])
            self._idle.clear()
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                with self.app.app_context():
                    self.run_rounds()
                failures.succeeded()
            except Exception as error:  # noqa: BLE001 - database or broker outage, or a bug: never die
                self._stopping.wait(failures.failed(error))
        self.close_connection()

    def run_rounds(self):
        """Acquire and run rounds until one comes back empty or the runtime stops; returns how
        many jobs ran. Jobs left over from a round a database error interrupted run first. (A
        short round is no sign that the work is done: other workers' concurrent rounds lock
        rows this one skips.)

        Acquisitions, and the finishing of jobs whose handler does no database work, are single
        statements sent on a connection this thread keeps in autocommit mode (one round trip
        each, see ``acquire_round`` and ``run_job``); jobs whose handler does database work
        finish in the session's transaction. After a database error the connection is dropped
        and a new one is taken on the next call."""
        if self._autocommit is None:
            self._autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return self._run_rounds(self._autocommit)
        except Exception:
            self.close_connection()
            raise

    def close_connection(self):
        """Give the executor's autocommit connection back (the runtime stops, or it failed)."""
        connection, self._autocommit = self._autocommit, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - a broken connection is discarded by the pool anyway
                log.debug("closing the executor's connection failed", exc_info=True)

    def _run_rounds(self, autocommit):
        ran = 0
        while not self._stopping.is_set():
            if not self._round:
                self._beat_if_stale()
                size = self.round_size()
                jobs = acquire_round(self.worker_id, size, connection=autocommit)
                observe_round(len(jobs), sum(1 for job in jobs if job.previous_owner not in (None, self.worker_id)))
                if not jobs:
                    return ran
                with self._lock:
                    self._round.extend(jobs)
                    self._leased_at = time.monotonic()
                if len(jobs) >= size:
                    self._fan_out = True  # more work is probably waiting: let the others in
            self._send_fan_out_hint(autocommit)
            while self._round and not self._stopping.is_set():
                self._run_next(autocommit)
                ran += 1
        return ran

    def round_size(self):
        """About ``JOB_ROUND_SECONDS`` of work at this process's measured job duration, within
        1..``JOB_ACQUISITION_SIZE``; one job while nothing has been measured yet."""
        limit = self.config["JOB_ACQUISITION_SIZE"]
        if self._job_seconds is None:
            return 1
        return max(1, min(limit, int(self.config["JOB_ROUND_SECONDS"] / max(self._job_seconds, 1e-6))))

    def _run_next(self, autocommit):
        job = self._round[0]
        # Every line logged while the job runs names it and its batch (spec A22).
        with job_context(job.id, job.batch_id):
            started = time.monotonic()
            # A database error propagates: the job stays at the head of the round.
            outcome = run_job(job, autocommit=autocommit, guard=self._time_limited)
            seconds = time.monotonic() - started
            with self._lock:
                self._round.popleft()
            self._job_seconds = seconds if self._job_seconds is None else (
                DURATION_WEIGHT * seconds + (1 - DURATION_WEIGHT) * self._job_seconds)
            observe_job(job.handler_type, outcome, seconds)
            log.debug("job %s: %s", job.id, outcome)
        return outcome

    @contextmanager
    def _time_limited(self, job):
        """Marks the handler call that the time limits watch (see ``watch_time_limits``)."""
        with self._lock:
            self._in_handler = (job, time.monotonic(), threading.get_ident())
            self._interrupted = False
        try:
            yield
        finally:
            with self._lock:
                self._in_handler = None
                if self._interrupted:
                    # The handler returned just as the limit struck: cancel the exception if it
                    # is still pending, so that it cannot surface in the finishing code.
                    _raise_in_thread(threading.get_ident(), None)

    def _send_fan_out_hint(self, autocommit=None):
        """One wake-up for the other workers: a NOTIFY on the executor's autocommit connection
        where the runtime listens for them, else a broker hint."""
        if not self._fan_out or time.monotonic() < self._broker_quiet_until:
            return
        self._fan_out = False
        if self.notifies and autocommit is not None:
            autocommit.execute(WAKE_NOTIFY)  # a database error propagates as any round's does
            return
        broker = self._broker or self.app.extensions["dispatcher"]
        try:
            broker.send(TASK_ACQUIRE, expires=HINT_EXPIRES_SECONDS)
        except Exception as error:  # noqa: BLE001 - a lost hint is found by the other workers' sweeps
            # Stay quiet for a sweep interval: a broker that is down would cost every round a
            # failed connection attempt and a log line.
            self._broker_quiet_until = time.monotonic() + self.config["JOB_SWEEP_INTERVAL_SECONDS"]
            log.warning("could not send a wake-up hint to the broker (%s); the other workers' sweeps find the work",
                        error)

    # --- the listener thread -------------------------------------------------------------------

    def _listen_loop(self):
        with self.app.app_context():
            driver_error = db.engine.dialect.loaded_dbapi.Error
        failures = _FailureLog(f"wake-up listener of worker {self.worker_id}", expected=(driver_error, OSError))
        connection = None
        while not self._stopping.is_set():
            try:
                if connection is None:
                    connection = self._listen_connection()
                    failures.succeeded()
                    self.wake()  # what was notified while nobody listened is lost: look once
                if self.wait_for_notification(connection, LISTEN_POLL_SECONDS):
                    self.wake()
            except Exception as error:  # noqa: BLE001 - database outage: reconnect with backoff
                _close_quietly(connection)
                connection = None
                self._stopping.wait(failures.failed(error))
        _close_quietly(connection)

    def _listen_connection(self):
        """A DBAPI connection of its own (not the pool's: it is held for good), in autocommit
        mode, LISTENing on the wake-up channel; the pool's connect arguments apply."""
        with self.app.app_context():
            engine = db.engine
        args, options = engine.dialect.create_connect_args(engine.url)
        options.update(self.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}))
        connection = engine.dialect.loaded_dbapi.connect(*args, **options)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {WAKE_CHANNEL}")
        return connection

    @staticmethod
    def wait_for_notification(connection, timeout):
        """True when at least one notification arrived within ``timeout`` seconds (all that
        arrived are consumed: one wake-up covers them). Raises when the connection broke."""
        readable, _, _ = io_select.select([connection], [], [], timeout)
        if not readable:
            return False
        connection.poll()
        arrived = bool(connection.notifies)
        connection.notifies.clear()
        return arrived

    # --- the heartbeat thread ------------------------------------------------------------------

    def _heartbeat_loop(self):
        failures = _FailureLog(f"heartbeat of worker {self.worker_id}")
        interval = self.config["JOB_HEARTBEAT_INTERVAL_SECONDS"]
        next_maintenance = 0.0
        while True:
            try:
                with self.app.app_context():
                    self.beat()
                    self.watch_time_limits()
                    self.extend_leases_if_due()
                    if time.monotonic() >= next_maintenance:
                        self.maintain()
                        next_maintenance = time.monotonic() + self.config["JOB_SWEEP_INTERVAL_SECONDS"]
                failures.succeeded()
                pause = interval
            except Exception as error:  # noqa: BLE001 - database outage: keep trying, never die
                pause = min(interval, failures.failed(error))
            if self._heartbeat_stop.wait(pause):
                return

    def beat(self):
        """Write this worker's heartbeat (registering it first if needed)."""
        with self._beat_lock:
            if not workers.heartbeat(self.worker_id):
                if self._last_beat is not None:
                    log.warning("worker %s had been declared dead and registers again; the jobs taken over "
                                "from it meanwhile are not finished twice", self.worker_id)
            self._last_beat = time.monotonic()

    def _beat_if_stale(self):
        """Never acquire as a worker the others may soon take for dead (first round, or the
        heartbeat thread was held up by an outage); a beat only a little late is left to the
        heartbeat thread, so that a round does not wait for one more commit."""
        last = self._last_beat
        if last is None or time.monotonic() - last > self.config["JOB_DEAD_WORKER_SECONDS"] / 2:
            self.beat()

    def watch_time_limits(self):
        """The running handler's time limits (checked at every heartbeat).

        Past ``TASK_SOFT_TIME_LIMIT`` the handler is interrupted with
        :class:`JobTimeLimitExceeded` and the job fails like any handler error. Past
        ``TASK_TIME_LIMIT`` (the handler swallowed that, or sits in a call that cannot be
        interrupted) its failure is recorded here, the rest of the round is given back, and the
        process exits so that Celery replaces it: a stuck thread cannot be stopped any other
        way, and its lease would otherwise be extended forever."""
        with self._lock:
            if self._in_handler is None:
                return
            job, started, thread_id = self._in_handler
            elapsed = time.monotonic() - started
            if elapsed >= self.config["TASK_SOFT_TIME_LIMIT"] and not self._interrupted:
                self._interrupted = True
                log.warning("job %s has run %.1f s, past its soft time limit of %s s: interrupting its handler",
                            job.id, elapsed, self.config["TASK_SOFT_TIME_LIMIT"])
                _raise_in_thread(thread_id, JobTimeLimitExceeded)
                return
        if elapsed >= self.config["TASK_TIME_LIMIT"]:
            self._abandon_stuck_handler(job, elapsed)

    def _abandon_stuck_handler(self, job, elapsed):
        limit = self.config["TASK_TIME_LIMIT"]
        log.error("job %s has run %.1f s, past its time limit of %s s, and its handler does not stop: recording "
                  "its failure and replacing worker process %s", job.id, elapsed, limit, os.getpid())
        error = JobTimeLimitExceeded(f"Job {job.id} ran longer than its time limit of {limit} s")
        try:
            record_failure(job.id, job.lock_owner, job.revision, error)
            with self._lock:
                leftover = [held.id for held in self._round if held.id != job.id]
            workers.release_jobs(self.worker_id, leftover)
            workers.retire_worker(self.worker_id, still_holding=False)
        finally:
            self._exit(EXIT_STUCK_HANDLER)

    def extend_leases_if_due(self):
        """Keep the jobs of the current round locked while a long handler runs.

        Extended once the round's lease is half gone, or earlier when the lock time is short
        compared with the heartbeat interval, so that the next beat always comes in time."""
        lock_time = self.config["JOB_LOCK_TIME_SECONDS"]
        due_after = max(0.0, lock_time - max(lock_time / 2, 2 * self.config["JOB_HEARTBEAT_INTERVAL_SECONDS"]))
        with self._lock:
            if not self._round or time.monotonic() - self._leased_at < due_after:
                return 0
            job_ids = [job.id for job in self._round]
            leased_at = time.monotonic()
        extended = workers.extend_leases(self.worker_id, job_ids)
        with self._lock:
            self._leased_at = leased_at
        return extended

    def maintain(self):
        """Every sweep interval: report workers that died, purge the long dead, and remove job
        log rows past JOB_LOG_TTL_DAYS (the history cleanup, bounded chunks; spec A19)."""
        now = utcnow()
        w = worker_table.c
        dead = db.session.execute(select(w.id, w.heartbeat_at).where(w.heartbeat_at < workers.dead_before(now))).all()
        db.session.commit()
        newly_dead = [(worker_id, heartbeat_at) for worker_id, heartbeat_at in dead
                      if worker_id not in self._dead_seen and worker_id != self.worker_id]
        observe_dead_workers(len(newly_dead))
        for worker_id, heartbeat_at in newly_dead:
            log.warning("worker %s is dead (no heartbeat since %s UTC); live workers take its jobs over",
                        worker_id, heartbeat_at.isoformat(timespec="seconds"))
        self._dead_seen = {worker_id for worker_id, _ in dead}
        purged = workers.purge_dead_workers(now)
        if purged:
            log.info("purged %d dead worker row(s) whose locks have all expired", purged)
        removed = job_log.cleanup(now)
        if removed:
            log.info("history cleanup removed %d job log row(s) older than %s days", removed,
                     self.config["JOB_LOG_TTL_DAYS"])
