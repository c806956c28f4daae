"""R3: the database restarted mid-batch. The private PostgreSQL cluster is stopped (fast
shutdown: every connection closed), left down for ``--outage-seconds`` and started again;
seconds from it being back to ``endTime``. Meanwhile a poller sends GET /engine-rest/job/count
without pause, from just before the stop until the first 200 after the restart, and counts the
answers: the web should say 503 with Camunda's error JSON while the database is away, never 500.
"""

import threading
import time
from collections import Counter

from benchmarks.client import REST, HttpClient
from benchmarks.common import fmt_seconds, verdict
from benchmarks.scenarios import recovery

KEY = "R3"
TITLE = "Recovery: PostgreSQL restarted mid-batch; what the web answers meanwhile"
STACK = None  # runs on the private servers (benchmarks.scenarios.recovery)


class Poller:
    """GET /job/count in a loop on its own connection; counts statuses (or "no answer")."""

    def __init__(self, port):
        self.client = HttpClient(port, timeout=30)
        self.answers = Counter()
        self.slowest = 0.0
        self.back = threading.Event()  # set once the database is up again
        self.thread = threading.Thread(target=self._run, name="bench-r3-poller", daemon=True)

    def _run(self):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status = self.client.request("GET", f"{REST}/job/count").status
            except OSError:
                self.client.close()
                status = "no answer"
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.answers[status] += 1
            if status == 200 and self.back.is_set():
                return
            time.sleep(0.02)

    def summary(self):
        """{kind of answer: count}, in the order the report prints them."""
        answers = self.answers
        counts = {"requests": sum(answers.values()), "200": answers[200], "500": answers[500], "503": answers[503]}
        counts["other 5xx"] = sum(count for status, count in answers.items()
                                  if isinstance(status, int) and status >= 500 and status not in (500, 503))
        counts["other"] = sum(count for status, count in answers.items()
                              if isinstance(status, int) and status < 500 and status != 200)
        counts["no answer"] = answers["no answer"]
        return counts


def run(bench):
    postgres = recovery.environment(bench).postgres
    outage = bench.args.outage_seconds
    pollers = []

    def restart_postgres(stack):
        poller = Poller(stack.port)
        pollers.append(poller)
        poller.thread.start()
        postgres.stop()
        time.sleep(outage)  # the outage itself: its length is a parameter of the scenario
        postgres.start()
        back = time.time()
        poller.back.set()
        poller.thread.join(timeout=120)  # its first 200 after the restart ends it; the clock started at `back`
        return back, {"PostgreSQL down": f"{outage:.0f} s (plus its shutdown and start)"}

    outcome = recovery.run_with_fault(bench, "R3 PostgreSQL restart", 8, 2, restart_postgres)
    recovery.add_rows(bench, KEY, outcome, f"PostgreSQL down {outage:.0f} s (fast shutdown): back -> endTime")
    if pollers:
        poller_row(bench, pollers[0])
    recovery.note_run(bench, KEY, outcome)


def poller_row(bench, poller):
    counts = poller.summary()
    bench.add(KEY, "GET /job/count during the outage (until the first 200 after it): "
                   + " / ".join(counts), " / ".join(str(value) for value in counts.values()),
              "slowest answer", fmt_seconds(poller.slowest), target="no 500, 503 while away (issue 9, R3)",
              result=verdict(counts["500"] == 0 and counts["503"] > 0))
