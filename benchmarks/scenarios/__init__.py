"""The scenarios, one module each, and the order a run takes them in.

Each module has ``KEY`` (what ``--scenarios`` takes), ``TITLE``, and the steps listed in
:data:`PLAN`. A step runs with the stack it names already up (``"web"``: web only, no worker,
so nothing executes), or manages its processes itself (``None``: the harness stops the shared
stack first). Scenario 5 has three steps: the stream with the web alone, the peaks that
scenario 1's batch recorded, and the flatness check at the end.

Numbered scenarios 1-10 run on the benchmark database (``--database-url``), loaded with N jobs;
the recovery scenarios R1-R3 on a private PostgreSQL and Redis the harness starts itself.
"""

from benchmarks.scenarios import (
    r1_worker_kill,
    r2_redis_restart,
    r3_postgres_restart,
    s1_batch,
    s2_defaults,
    s3_creation,
    s4_queries,
    s5_memory,
    s6_executor,
    s7_curve,
    s8_metrics,
    s9_preview,
    s10_message_like,
)

MODULES = (s1_batch, s2_defaults, s3_creation, s4_queries, s5_memory, s6_executor, s7_curve, s8_metrics,
           s9_preview, s10_message_like,
           r1_worker_kill, r2_redis_restart, r3_postgres_restart)
TITLES = {module.KEY: module.TITLE for module in MODULES}
MAIN = ("1", "2", "3", "4", "5", "6", "8", "9", "10")  # one RESULTS.md section per N
CURVE = ("7",)  # a section of its own per N
RECOVERY = ("R1", "R2", "R3")  # one section, their own data
DEFAULT = "1,2,3,4,5,6,7,8,9,10"

PLAN = (
    ("4", "web", s4_queries.run),
    ("10", "web", s10_message_like.run),  # adds 20 jobs and deletes them again
    ("3", "web", s3_creation.run),
    ("9", "web", s9_preview.run),
    ("5", "web", s5_memory.stream),
    ("1", "web", s1_batch.run),  # the workers join once the slice statements are captured
    ("2", None, s2_defaults.run),
    ("6", None, s6_executor.run),
    ("7", None, s7_curve.run),
    ("8", None, s8_metrics.run),
    ("5", None, s5_memory.finish),
    ("R1", None, r1_worker_kill.run),
    ("R2", None, r2_redis_restart.run),
    ("R3", None, r3_postgres_restart.run),
)


def parse_selection(text):
    """``"1,5,R1"`` -> the keys in run order; ValueError naming what is unknown."""
    wanted = {part.strip().upper() for part in text.split(",") if part.strip()}
    unknown = wanted - set(TITLES)
    if unknown or not wanted:
        raise ValueError(f"unknown scenarios {sorted(unknown) or text!r}; choose from {', '.join(TITLES)}")
    return [key for key in TITLES if key in wanted]
