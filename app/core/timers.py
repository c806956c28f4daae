"""Timer definitions, for ``POST /job/{id}/duedate/recalculate`` (spec C.4, A18).

Camunda keeps a timer's BPMN definition (``timeDate``, ``timeDuration`` or ``timeCycle``) in its
process definition and re-evaluates it against a base date. Our jobs come in over the API, so a
timer job carries its definition in its ``handlerConfiguration`` under the same BPMN names, and
this module resolves it:

* ``timeDate``: an absolute date (any form app.core.dates accepts); the base does not matter;
* ``timeDuration``: an ISO 8601 duration (``PT10M``, ``P1DT2H``, ``P2W``, ``P1M``): base + duration;
* ``timeCycle``: ``R/<duration>`` or ``R<n>/<duration>``: the first occurrence after the base,
  i.e. base + duration. Cycles with a start or end date and cron expressions are refused.

Years and months are calendar units (``P1M`` from 31 January is the last day of February).
"""

import calendar
import re
from datetime import timedelta

from app.core.dates import DateParseError, parse_date, truncate_ms

TIMER_KEYS = ("timeDate", "timeDuration", "timeCycle")

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?\Z",
    re.ASCII,
)
_CYCLE = re.compile(r"^R(\d*)/(P[^/]*)\Z", re.ASCII)


class TimerDefinitionError(ValueError):
    """The definition cannot be resolved; the message says why."""


def timer_definition(configuration):
    """``(key, value)`` of the one timer definition in ``configuration``, or None if it has none."""
    if not isinstance(configuration, dict):
        return None
    present = [key for key in TIMER_KEYS if configuration.get(key) is not None]
    if not present:
        return None
    if len(present) > 1:
        raise TimerDefinitionError(f"a timer has one of {', '.join(TIMER_KEYS)}, not {' and '.join(present)}")
    return present[0], configuration[present[0]]


def _add_months(moment, months):
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_duration(moment, duration):
    """``moment`` + the ISO 8601 ``duration``; TimerDefinitionError if it is not one."""
    match = _DURATION.match(duration) if isinstance(duration, str) else None
    if not match:
        raise TimerDefinitionError(f"'{duration}' is not an ISO 8601 duration such as PT10M or P1DT12H")
    years, months, weeks, days, hours, minutes, seconds = match.groups()
    try:
        moment = _add_months(moment, int(years or 0) * 12 + int(months or 0))
        moment = moment + timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
                                    minutes=int(minutes or 0), seconds=float((seconds or "0").replace(",", ".")))
    except (OverflowError, ValueError):
        raise TimerDefinitionError(f"'{duration}' leads past the year 9999") from None
    return truncate_ms(moment)


def resolve_due_date(key, value, base):
    """The due date of the timer definition ``key: value`` resolved against ``base`` (naive UTC)."""
    if key == "timeDate":
        try:
            return parse_date(value)
        except DateParseError:
            raise TimerDefinitionError(f"'{value}' is not a date") from None
    if key == "timeDuration":
        return add_duration(base, value)
    match = _CYCLE.match(value) if isinstance(value, str) else None
    if not match:
        raise TimerDefinitionError(
            f"'{value}' is not a cycle this service resolves: R/<duration> or R<n>/<duration>, e.g. R3/PT10M")
    return add_duration(base, match.group(2))
