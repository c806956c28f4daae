"""Camunda's date format on the wire (spec B.2.1, decisions A4 and A5).

Out: ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` in the configured zone (UTC by default, ``+0000``).
In: that pattern, ISO 8601 variants (``Z``, ``+01:00``, ``+01``, 0-6 fraction digits, Java's
``GMT+01:00``) and, in JSON, epoch milliseconds. A value without a zone is read in the output
zone. Impossible dates and trailing text are errors, not Java's lenient roll-over.

Inside the service every datetime is naive UTC with millisecond precision, the same on
PostgreSQL and SQLite, so that a date a client read from us compares equal when sent back.
"""

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# ASCII digits only, and \Z rather than $ (which also matches before a trailing newline).
_PATTERN = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}(?::?\d{2})?|GMT[+-]\d{2}:\d{2})?\Z",
    re.ASCII,
)

MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


class DateParseError(ValueError):
    """The value is not a date we accept."""


def utcnow():
    """Now as naive UTC, truncated to milliseconds like every stored date."""
    return truncate_ms(datetime.now(timezone.utc).replace(tzinfo=None))


def truncate_ms(value):
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def _zone(name):
    return timezone.utc if name in (None, "", "UTC") else ZoneInfo(name)


def parse_date(value, default_zone="UTC"):
    """Parse a wire date (string, or int epoch milliseconds) into naive UTC."""
    if isinstance(value, bool):
        raise DateParseError(value)
    if isinstance(value, int):
        if abs(value) > MAX_EPOCH_MS:
            raise DateParseError(value)
        try:
            return datetime(1970, 1, 1) + timedelta(milliseconds=value)
        except OverflowError:  # before year 1
            raise DateParseError(value) from None
    if not isinstance(value, str):
        raise DateParseError(value)
    match = _PATTERN.match(value)
    if not match:
        raise DateParseError(value)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    except ValueError:
        raise DateParseError(value) from None
    if zone is None:
        aware = local.replace(tzinfo=_zone(default_zone))
    elif zone == "Z":
        aware = local.replace(tzinfo=timezone.utc)
    else:
        offset = zone[3:] if zone.startswith("GMT") else zone
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise DateParseError(value)
        aware = local.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    try:
        return truncate_ms(aware.astimezone(timezone.utc).replace(tzinfo=None))
    except OverflowError:
        raise DateParseError(value) from None


def format_date(value, zone="UTC"):
    """Format naive-UTC (or aware) ``value`` as Camunda does; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        local = value.astimezone(_zone(zone))
    except OverflowError:  # the zone's offset pushes year 1 or 9999 off the calendar
        local = value.astimezone(timezone.utc)
    if local.utcoffset() % timedelta(minutes=1):
        # Local mean time before ~1900 has offsets like +05:53:28 that +HHMM cannot express.
        local = value.astimezone(timezone.utc)
    offset = local.strftime("%z") or "+0000"
    # %Y does not pad years below 1000; Java's yyyy does.
    return f"{local.year:04d}-{local:%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{offset}"
