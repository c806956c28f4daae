"""Scenario 5: memory. An unbounded GET /job streamed (web only), the peaks of web and workers
during scenario 1's batch, and the flatness of the peaks between N = 100k and N = 1M (against
the saved peaks of the last complete run at the other N).

The 250 MB target holds per process: the largest RSS any single process of a tree reached
(each gunicorn worker and pool child on its own). The tree's PSS is its real footprint; RSS
summed over the tree counts the pages shared after fork several times.
"""

import json

from benchmarks.client import REST
from benchmarks.common import MB, ROOT, BenchError, fmt_mb, fmt_seconds, verdict
from benchmarks.db import scalar_at

KEY = "5"
TITLE = "Memory: peak RSS per process and PSS per process tree, web and workers"
MEMORY_TARGET = 250 * MB
SAVED_PEAKS = ROOT / "benchmarks" / ".work" / "memory-N{n}.json"
MARKER = b'{"id":'


def stream(bench):
    """Every job once through an unbounded GET /job, never held whole by the client."""
    expected = scalar_at(bench.url, "SELECT count(*) FROM job")
    state = {"bytes": 0, "objects": 0, "tail": b""}

    def on_chunk(chunk):
        state["bytes"] += len(chunk)
        # The previous chunk's last bytes (too short to hold a whole marker) go in front, so a
        # marker split across two chunks is counted once.
        joined = state["tail"] + chunk
        state["objects"] += joined.count(MARKER)
        state["tail"] = joined[-(len(MARKER) - 1):]

    client = bench.client()
    try:
        with bench.sampler.window() as window:
            status, seconds, first_byte = client.stream(f"{REST}/job", on_chunk, max_seconds=bench.args.stream_seconds)
    finally:
        client.close()
    if status != 200:
        raise BenchError(f"GET /job answered {status}")
    web = bench.memory["stream_web"] = window.peaks.get("web", {})
    bench.add(KEY, f"unbounded GET /job: {state['objects']} objects, {state['bytes'] / MB:.1f} MB streamed",
              fmt_seconds(seconds), "jobs in the table", str(expected), target="every job once",
              result=verdict(state["objects"] == expected))
    bench.add(KEY, "unbounded GET /job: time to first byte", fmt_seconds(first_byte or float("nan")))
    memory_row(bench, "web during unbounded GET /job", web)


def memory_value(peak):
    return (f"largest process {fmt_mb(peak['max_process_rss'])} (main {fmt_mb(peak['root_rss'])}, largest child "
            f"{fmt_mb(peak['child_rss'])}); tree of {peak['processes']}: PSS {fmt_mb(peak['pss'])}, "
            f"RSS summed {fmt_mb(peak['rss'])}")


def memory_row(bench, figure, peak):
    if not peak:
        bench.add(KEY, figure, "not sampled", result="ERROR")
        return
    target = "largest process RSS <= 250 MB" + ("" if bench.n >= 1_000_000 else " (target is set at 1M)")
    bench.add(KEY, figure, memory_value(peak), target=target, result=verdict(peak["max_process_rss"] <= MEMORY_TARGET))


def batch_peaks(bench):
    """The peaks of scenario 1's batch (recorded by it in ``bench.memory``)."""
    if "1" not in bench.args.selected:
        bench.add(KEY, "worker and web peaks during a batch", "scenario 1 not selected")
        return
    for name in ("web", "worker1", "worker2"):
        memory_row(bench, f"{name} during the scenario 1 batch", bench.memory.get(f"batch_{name}"))


def saved_peaks(n):
    """The saved peaks of a run at the other end of the 100k / 1M comparison, if any."""
    other = {100_000: 1_000_000, 1_000_000: 100_000}.get(n)
    try:
        return json.loads(SAVED_PEAKS.with_name(f"memory-N{other}.json").read_text()) if other else None
    except (OSError, ValueError):
        return None


def _smaller_run(previous, n_small, n_large):
    """The baseline's label: the smaller N is the saved run, or this one (the saved run is 1M)."""
    if previous["jobs"] == n_small:
        return f"N={n_small:,} (run of {previous['date']})"
    return f"N={n_small:,} (this run; N={n_large:,}: run of {previous['date']})"


def flatness(bench):
    """Per-process RSS and tree PSS, each within 1.2x between this run and the saved other N."""
    previous = saved_peaks(bench.n)
    if not previous:
        bench.add(KEY, "flat between 100k and 1M", "no saved run at another N to compare with",
                  target="<= 1.2x from 100k to 1M")
        return
    n_small, n_large = sorted((previous["jobs"], bench.n))
    for figure, peak in sorted(bench.memory.items()):
        before = previous["memory"].get(figure)
        if not before or not peak or "max_process_rss" not in before:
            continue
        small, large = (before, peak) if previous["jobs"] < bench.n else (peak, before)
        process_ratio = large["max_process_rss"] / small["max_process_rss"] if small["max_process_rss"] else 99.0
        pss_ratio = large["pss"] / small["pss"] if small["pss"] else 99.0
        bench.add(KEY, f"{figure}: N={n_large:,} vs N={n_small:,}, largest process RSS / tree PSS",
                  f"{fmt_mb(large['max_process_rss'])} / {fmt_mb(large['pss'])}",
                  _smaller_run(previous, n_small, n_large),
                  f"{fmt_mb(small['max_process_rss'])} / {fmt_mb(small['pss'])}",
                  f"{process_ratio:.2f}x / {pss_ratio:.2f}x", "<= 1.2x each (flat)",
                  verdict(process_ratio <= 1.2 and pss_ratio <= 1.2))


def finish(bench):
    batch_peaks(bench)
    flatness(bench)
    bench.note(KEY, "Memory is sampled from /proc every 0.2 s. The target (250 MB each for web and worker) is "
                    "checked per process: the largest RSS of any single process of the tree (gunicorn arbiter "
                    "and each gunicorn worker; Celery main process and each pool child, counted individually). "
                    "The tree's PSS (proportional set size: each page shared after fork is split among the "
                    "processes sharing it) is the footprint of the whole process type; summing RSS over the "
                    "tree counts shared pages once per process and overstates it.")


def save_peaks(bench, date):
    """Keep this run's peaks for the flatness check of a later run at the other N."""
    summary = {"date": date, "jobs": bench.n, "memory": bench.memory}
    SAVED_PEAKS.with_name(f"memory-N{bench.n}.json").write_text(json.dumps(summary, indent=1, default=str))
