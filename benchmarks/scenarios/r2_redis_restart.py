"""R2: the broker lost mid-batch. The private Redis (no persistence) is stopped, left down for
``--outage-seconds`` and started again empty; seconds from Redis being back to ``endTime``."""

import time

from benchmarks.scenarios import recovery

KEY = "R2"
TITLE = "Recovery: Redis stopped and started mid-batch, queued messages lost"
STACK = None  # runs on the private servers (benchmarks.scenarios.recovery)


def run(bench):
    redis_server = recovery.environment(bench).redis
    outage = bench.args.outage_seconds

    def restart_redis(stack):
        redis_server.stop()
        time.sleep(outage)  # the outage itself: its length is a parameter of the scenario
        redis_server.start()
        return time.time(), {"Redis down": f"{outage:.0f} s"}

    outcome = recovery.run_with_fault(bench, "R2 Redis restart", 7, 2, restart_redis)
    recovery.add_rows(bench, KEY, outcome, f"Redis down {outage:.0f} s, no persistence: back -> endTime")
    recovery.note_run(bench, KEY, outcome)
    bench.note(KEY, "A negative time: the batch ended while Redis was still down. On PostgreSQL the workers wake "
                    "each other by NOTIFY (docs/decisions.md A25), so a batch needs the broker only for the web's "
                    "first hint, and the sweep covers that one.")
    recovery.job_lock_note(bench, KEY)
