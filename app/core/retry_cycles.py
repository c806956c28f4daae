"""Camunda's ``failedJobRetryTimeCycle`` (spec C.10, our choices in A19): parsing and the next due date.

A cycle is either ``R<n>/<duration>`` (n retries, the same interval every time; ``R/<duration>``
means unbounded, Java's Integer.MAX_VALUE), or a comma-separated list of durations
(``PT1M,PT5M,PT10M``: one interval per failure, retries = intervals + 1), as
``ParseUtil.parseRetryIntervals`` reads it. Durations are ISO 8601 (``P1DT2H``, ``PT0.5S``,
``P1W``); years and months are calendar arithmetic, as ``DurationHelper.getDateAfter`` does.

Not supported (refused with a message): expressions (``${...}``, there is no process to evaluate
them against) and repetitions with a start date (``R5/2026-01-01T00:00/PT5M``).
"""

import calendar
import re
from dataclasses import dataclass
from datetime import timedelta

UNBOUNDED = 2**31 - 1  # Java's Integer.MAX_VALUE, what Camunda uses for "R/..."

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$")
_REPEAT = re.compile(r"^R(?P<count>\d*)/(?P<rest>.+)$")


class RetryCycleError(ValueError):
    """A cycle that cannot be parsed; the message names the value and what is wrong."""


@dataclass(frozen=True)
class Duration:
    months: int = 0
    delta: timedelta = timedelta(0)

    def after(self, moment):
        """``moment`` + this duration (months first, clamped to the month's last day)."""
        if self.months:
            month_index = moment.month - 1 + self.months
            year, month = moment.year + month_index // 12, month_index % 12 + 1
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        return moment + self.delta


@dataclass(frozen=True)
class RetryCycle:
    """``retries``: the count a job starts (or restarts at its first failure) with;
    ``intervals``: the durations, used in order (one for ``R<n>/...``)."""

    text: str
    retries: int
    intervals: tuple

    def interval_index(self, retries_before):
        """Camunda's ``DefaultJobRetryCmd`` index: max(0, min(k - 1, k - (retries - 1)))."""
        k = len(self.intervals)
        return max(0, min(k - 1, k - (retries_before - 1)))

    def next_due(self, retries_before, now):
        """The due date after a failure of a job that had ``retries_before`` retries (after the
        first-failure re-initialisation); ``R0/...`` means now."""
        if self.retries == 0 and len(self.intervals) == 1:
            return now
        return self.intervals[self.interval_index(retries_before)].after(now)


def parse_duration(text):
    match = _DURATION.match(text)
    if match is None:
        raise RetryCycleError(f"'{text}' is not an ISO 8601 duration such as PT5M or P1DT2H")
    parts = {key: value for key, value in match.groupdict().items() if value is not None}
    months = int(parts.get("years", 0)) * 12 + int(parts.get("months", 0))
    delta = timedelta(weeks=int(parts.get("weeks", 0)), days=int(parts.get("days", 0)),
                      hours=int(parts.get("hours", 0)), minutes=int(parts.get("minutes", 0)),
                      seconds=float(parts.get("seconds", "0").replace(",", ".")))
    return Duration(months=months, delta=delta)


def parse_retry_cycle(text):
    """A :class:`RetryCycle` for ``text``; :class:`RetryCycleError` if it cannot be read."""
    if not isinstance(text, str) or not text.strip():
        raise RetryCycleError("a failedJobRetryTimeCycle must be a non-empty text such as R5/PT5M")
    text = text.strip()
    if "${" in text or "#{" in text:
        raise RetryCycleError(f"'{text}': expressions are not supported in a failedJobRetryTimeCycle")
    entries = [entry.strip() for entry in text.split(",")]
    if len(entries) == 1:
        repeat = _REPEAT.match(entries[0])
        if repeat is not None:
            if "/" in repeat.group("rest"):
                raise RetryCycleError(f"'{text}': a repetition with a start date is not supported")
            count = int(repeat.group("count")) if repeat.group("count") else UNBOUNDED
            return RetryCycle(text=text, retries=count, intervals=(parse_duration(repeat.group("rest")),))
    try:
        intervals = tuple(parse_duration(entry) for entry in entries)
    except RetryCycleError as error:
        if len(entries) == 1:
            raise RetryCycleError(f"'{text}' is neither R<n>/<duration> nor a list of ISO 8601 durations") from None
        raise RetryCycleError(f"'{text}': {error}") from None
    return RetryCycle(text=text, retries=len(intervals) + 1, intervals=intervals)


def initial_retries(cycle, default):
    """Retries a new job starts with (Camunda 7.24, legacyJobRetryBehaviorEnabled=false): the
    cycle's count, raised to 1 if 0 (so that no incident is raised at once); ``default`` without
    a cycle."""
    if cycle is None:
        return default
    return max(1, cycle.retries)


def failure_retries(cycle, retries, first_failure, now):
    """After a failure of a job with ``retries`` (before the failure) under ``cycle``: the new
    retries and the new due date (None: leave it). Camunda's custom strategy: at the first
    failure the retries restart at the cycle's count, then the interval is chosen and the
    retries are decremented."""
    if first_failure:
        retries = cycle.retries
    return max(0, retries - 1), cycle.next_due(retries, now)
