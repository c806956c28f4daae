"""app.core.text's LIKE helpers and app.core.timers (spec A18); the HTTP behaviour is in
tests/api/test_job_filter_extensions.py and tests/api/test_duedate_recalculate.py."""

from datetime import datetime

import pytest

from app.core.text import like_pattern_problem, like_to_glob
from app.core.timers import TimerDefinitionError, add_duration, resolve_due_date, timer_definition


@pytest.mark.parametrize("pattern, glob", [
    ("%abc%", "*abc*"),
    ("a_c", "a?c"),
    ("100\\%", "100%"),
    ("user\\_id", "user_id"),
    ("a\\\\b", "a\\b"),
    ("a*b?c[d]", "a[*]b[?]c[[]d]"),
    ("\\*", "[*]"),
    ("", ""),
])
def test_like_to_glob(pattern, glob):
    assert like_to_glob(pattern) == glob


@pytest.mark.parametrize("pattern, bad", [("abc\\", True), ("a\\\\", False), ("a\\\\\\", True), ("\\%", False),
                                          ("", False)])
def test_like_pattern_problem(pattern, bad):
    assert (like_pattern_problem(pattern) is not None) is bad


BASE = datetime(2024, 1, 31, 12, 0, 0)


@pytest.mark.parametrize("duration, expected", [
    ("PT1H", datetime(2024, 1, 31, 13)),
    ("P1M", datetime(2024, 2, 29, 12)),  # leap year, day clamped
    ("P1Y1M", datetime(2025, 2, 28, 12)),
    ("P1W", datetime(2024, 2, 7, 12)),
    ("PT1.25S", datetime(2024, 1, 31, 12, 0, 1, 250000)),
    ("PT0,5S", datetime(2024, 1, 31, 12, 0, 0, 500000)),
    ("P0D", BASE),
])
def test_add_duration(duration, expected):
    assert add_duration(BASE, duration) == expected


@pytest.mark.parametrize("duration", ["P", "PT", "1H", "PT1H30", "P1.5D", "pt1h", "P-1D", "PT1H\n"])
def test_add_duration_refuses_what_is_not_a_duration(duration):
    with pytest.raises(TimerDefinitionError):
        add_duration(BASE, duration)


def test_resolve_cycle_and_date():
    assert resolve_due_date("timeCycle", "R/PT15M", BASE) == datetime(2024, 1, 31, 12, 15)
    assert resolve_due_date("timeCycle", "R10/P1D", BASE) == datetime(2024, 2, 1, 12)
    assert resolve_due_date("timeDate", "2030-01-01T00:00:00Z", BASE) == datetime(2030, 1, 1)
    for cycle in ("R/2024-01-01T00:00:00Z/PT1H", "0 0 * * * ?", "R/", "PT1H"):
        with pytest.raises(TimerDefinitionError):
            resolve_due_date("timeCycle", cycle, BASE)


def test_timer_definition():
    assert timer_definition(None) is None
    assert timer_definition([1]) is None
    assert timer_definition({"other": 1, "timeDuration": None}) is None
    assert timer_definition({"timeDuration": "PT1M", "x": 1}) == ("timeDuration", "PT1M")
    with pytest.raises(TimerDefinitionError):
        timer_definition({"timeDuration": "PT1M", "timeCycle": "R/PT1M"})
