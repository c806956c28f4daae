"""What every benchmark module needs: the repository root, the harness's error, polling with a
deadline, percentiles and the formatting of figures."""

import math
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


class BenchError(RuntimeError):
    """The harness cannot go on (a process died, a deadline passed, a check failed)."""


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


def percentile(values, fraction):
    """Linear-interpolated percentile (``fraction`` in 0..1) of a non-empty sequence."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values):
    return percentile(values, 0.5)


def bounded_samples(function, repetitions, max_seconds, minimum=5):
    """Call ``function`` (returns seconds) up to ``repetitions`` times; stop early once
    ``max_seconds`` have passed and at least ``minimum`` samples exist."""
    samples = []
    deadline = time.monotonic() + max_seconds
    for _ in range(repetitions):
        samples.append(function())
        if time.monotonic() > deadline and len(samples) >= minimum:
            break
    return samples


def fmt_seconds(seconds):
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def fmt_ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def fmt_mb(size):
    return f"{size / MB:.0f} MB"


def fmt_ratio(value, baseline):
    if not baseline:
        return "n/a"
    ratio = value / baseline
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x"


def fmt_date(moment):
    """Camunda's wire format, UTC."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def verdict(ok):
    return "PASS" if ok else "FAIL"
