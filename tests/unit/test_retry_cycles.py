"""failedJobRetryTimeCycle parsing and the next due date (spec C.10, A19)."""

from datetime import datetime, timedelta

import pytest

from app.core.retry_cycles import (
    UNBOUNDED,
    RetryCycleError,
    failure_retries,
    initial_retries,
    parse_duration,
    parse_retry_cycle,
)

NOW = datetime(2026, 1, 31, 12, 0, 0)


@pytest.mark.parametrize("text, retries, intervals", [
    ("R5/PT5M", 5, [timedelta(minutes=5)]),
    ("R/PT1H", UNBOUNDED, [timedelta(hours=1)]),
    ("R0/PT5M", 0, [timedelta(minutes=5)]),
    ("PT8M", 2, [timedelta(minutes=8)]),
    ("PT1M,PT5M,PT10M", 4, [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=10)]),
    ("PT3M, PT10M,PT8M", 4, [timedelta(minutes=3), timedelta(minutes=10), timedelta(minutes=8)]),
    (" R3/P1DT2H30M ", 3, [timedelta(days=1, hours=2, minutes=30)]),
    ("R2/PT0.5S", 2, [timedelta(milliseconds=500)]),
    ("R1/P2W", 1, [timedelta(weeks=2)]),
])
def test_cycles_parse_as_camunda_counts_them(text, retries, intervals):
    cycle = parse_retry_cycle(text)
    assert cycle.retries == retries
    assert [interval.after(NOW) - NOW for interval in cycle.intervals] == intervals


@pytest.mark.parametrize("text, fragment", [
    ("", "non-empty"),
    ("R5", "neither"),
    ("5 minutes", "neither"),
    ("PT5M,bogus", "'bogus' is not an ISO 8601 duration"),
    ("P", "neither"),
    ("PT", "neither"),
    ("R5/PT", "'PT' is not an ISO 8601 duration"),
    ("${retryCycle}", "expressions are not supported"),
    ("R5/2026-01-01T00:00:00/PT5M", "start date is not supported"),
])
def test_unreadable_cycles_are_refused_with_a_reason(text, fragment):
    with pytest.raises(RetryCycleError, match=fragment.replace("$", r"\$").replace("{", r"\{")):
        parse_retry_cycle(text)


def test_months_and_years_are_calendar_arithmetic_clamped_to_the_month():
    assert parse_duration("P1M").after(NOW) == datetime(2026, 2, 28, 12, 0, 0)
    assert parse_duration("P1Y1M").after(NOW) == datetime(2027, 2, 28, 12, 0, 0)
    assert parse_duration("P12M").after(NOW) == datetime(2027, 1, 31, 12, 0, 0)


def _run(cycle_text, failures, start_retries=None, first=True):
    """(retries after, due - now) for each of ``failures`` failures."""
    cycle = parse_retry_cycle(cycle_text)
    retries = initial_retries(cycle, 3) if start_retries is None else start_retries
    seen = []
    for _ in range(failures):
        retries, due = failure_retries(cycle, retries, first, NOW)
        first = False
        seen.append((retries, due - NOW))
    return seen


def test_r5_cycle_counts_down_from_five_with_the_same_interval():
    five = timedelta(minutes=5)
    assert _run("R5/PT5M", 5) == [(4, five), (3, five), (2, five), (1, five), (0, five)]


def test_a_list_uses_its_intervals_in_order_then_keeps_the_last():
    m = timedelta(minutes=1)
    assert _run("PT1M,PT5M,PT10M", 4) == [(3, 1 * m), (2, 5 * m), (1, 10 * m), (0, 10 * m)]
    assert _run("PT3M, PT10M,PT8M", 4) == [(3, 3 * m), (2, 10 * m), (1, 8 * m), (0, 8 * m)]


def test_retries_set_by_hand_after_the_first_failure_pick_the_interval_by_formula():
    # RetryIntervalsConfigurationTest#testIntervalsAfterUpdateRetries: retries set to 5 after
    # one failure; the next failures give 4 (+3m), 3 (+3m), 2 (+10m), 1 (+8m), 0.
    m = timedelta(minutes=1)
    assert _run("PT3M, PT10M,PT8M", 5, start_retries=5, first=False) == [
        (4, 3 * m), (3, 3 * m), (2, 10 * m), (1, 8 * m), (0, 8 * m)]


def test_the_first_failure_restarts_the_retries_at_the_cycle_count():
    # Retries set by hand before the first failure are overwritten by the cycle's count.
    assert _run("R5/PT5M", 1, start_retries=1)[0][0] == 4


def test_r0_starts_with_one_retry_and_fails_into_an_incident_at_once():
    cycle = parse_retry_cycle("R0/PT5M")
    assert initial_retries(cycle, 3) == 1
    assert failure_retries(cycle, 1, True, NOW) == (0, NOW)


def test_without_a_cycle_a_new_job_gets_the_default():
    assert initial_retries(None, 3) == 3
    assert initial_retries(parse_retry_cycle("PT1M,PT2M"), 3) == 3
    assert initial_retries(parse_retry_cycle("R7/PT1M"), 3) == 7
