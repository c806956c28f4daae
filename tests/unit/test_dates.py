"""Wire dates (spec B.2.1 as amended by A4/A5): what ``parse_date`` accepts, what it refuses,
and how ``format_date`` writes Camunda's ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from app.core.dates import DateParseError, format_date, parse_date, truncate_ms, utcnow

CAMUNDA_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")

# 2016-01-25T13:33:42.165+0100 (spec B.2.1) is this instant in UTC.
UTC_1233 = datetime(2016, 1, 25, 12, 33, 42, 165000)
UTC_1333 = datetime(2016, 1, 25, 13, 33, 42, 165000)


@pytest.mark.parametrize("text, expected", [
    # The rows of B.2.1 that Camunda accepts.
    ("2016-01-25T13:33:42.165+0100", UTC_1233),
    ("2016-01-25T13:33:42.165-0000", UTC_1333),
    ("2016-01-25T13:33:42.165+0000", UTC_1333),
    ("2016-01-25T13:33:42.165GMT+01:00", UTC_1233),
    ("2016-01-25T13:33:42.165GMT-01:00", UTC_1333 + timedelta(hours=1)),
    # The rows A5 turns from failures into successes.
    ("2016-01-25T13:33:42.165Z", UTC_1333),
    ("2016-01-25T13:33:42.165+01:00", UTC_1233),
    ("2016-01-25T13:33:42.165+01", UTC_1233),
    ("2016-01-25T13:33:42+0100", UTC_1233.replace(microsecond=0)),
    ("2016-01-25T13:33:42Z", UTC_1333.replace(microsecond=0)),
    ("2016-01-25T13:33:42.165-05:30", UTC_1333 + timedelta(hours=5, minutes=30)),
    # No zone: UTC (the output zone).
    ("2016-01-25T13:33:42.165", UTC_1333),
    ("2016-01-25T13:33:42", UTC_1333.replace(microsecond=0)),
    # Offsets that cross the day boundary.
    ("2016-01-01T00:30:00.000+0100", datetime(2015, 12, 31, 23, 30)),
    ("2016-02-29T23:59:59.999-0100", datetime(2016, 3, 1, 0, 59, 59, 999000)),
])
def test_accepted_strings(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("fraction, millis", [
    # Decimal semantics (A5), not SimpleDateFormat's ".1 = 1 ms".
    ("1", 100), ("12", 120), ("123", 123), ("1234", 123), ("12345", 123), ("123456", 123),
    ("999999", 999), ("000001", 0), ("05", 50),
])
def test_fraction_digits_are_decimal_and_truncated_to_milliseconds(fraction, millis):
    parsed = parse_date(f"2016-01-25T13:33:42.{fraction}+0000")
    assert parsed == datetime(2016, 1, 25, 13, 33, 42, millis * 1000)


def test_more_than_six_fraction_digits_are_truncated_too():
    # Java's Instant.toString() and .NET's "o" format send 7-9 digits; they are harmless.
    assert parse_date("2016-01-25T13:33:42.123456789Z") == datetime(2016, 1, 25, 13, 33, 42, 123000)


@pytest.mark.parametrize("millis, expected", [
    (0, datetime(1970, 1, 1)),
    (1453725222165, UTC_1233),
    (-1, datetime(1969, 12, 31, 23, 59, 59, 999000)),
    (253402300799999, datetime(9999, 12, 31, 23, 59, 59, 999000)),
    (-62135596800000, datetime(1, 1, 1)),
])
def test_epoch_milliseconds(millis, expected):
    assert parse_date(millis) == expected


@pytest.mark.parametrize("value", [
    # Trailing garbage (Camunda ignores it; A5 refuses it) and other debris.
    "2016-01-25T13:33:42.165+0100xyz",
    "2016-01-25T13:33:42.165+0100\n",
    "2016-01-25T13:33:42.165Z\n",
    " 2016-01-25T13:33:42.165+0100",
    "2016-01-25T13:33:42.165+0100 ",
    # Impossible dates (Camunda rolls them over; A5 refuses them).
    "2016-13-45T13:33:42.165+0100",
    "2015-02-29T00:00:00.000+0000",
    "2016-04-31T00:00:00.000+0000",
    "2016-01-25T24:00:00.000+0000",
    "2016-01-25T13:60:00.000+0000",
    "2016-01-25T13:33:60.000+0000",
    "0000-01-01T00:00:00.000+0000",
    # A '+' that a URL turned into a space.
    "2016-01-25T13:33:42.165 0100",
    # Broken zones and fractions.
    "2016-01-25T13:33:42.165+2400",
    "2016-01-25T13:33:42.165+0160",
    "2016-01-25T13:33:42.165+1",
    "2016-01-25T13:33:42.165+01:0",
    "2016-01-25T13:33:42.165GMT",
    "2016-01-25T13:33:42.165UTC",
    "2016-01-25T13:33:42.+0100",
    "2016-01-25T13:33:42,165+0100",
    # Not the pattern at all.
    "", "invalidValue", "2016-01-25", "13:33:42", "2016-1-25T13:33:42.165+0100",
    "2016-01-25 13:33:42.165+0100", "1453725222165",
    # Non-ASCII digits look like digits to Python's \d and int().
    "\uff12\uff10\uff11\uff16-01-25T13:33:42.165+0100",
    "2016-01-25T13:33:42.\u0661\u0662\u0663+0100",
])
def test_refused_strings(value):
    with pytest.raises(DateParseError):
        parse_date(value)


@pytest.mark.parametrize("value", [
    True, False, None, 1.5, 1453725222165.0, float("nan"), float("inf"),
    [], ["2016-01-25T13:33:42.165+0100"], {}, {"value": 1},
    # Epoch milliseconds outside years 1..9999.
    253402300800000, -62135596800001, -253402300799999, 10**30, -(10**30),
])
def test_refused_non_strings(value):
    with pytest.raises(DateParseError):
        parse_date(value)


def test_refused_dates_whose_offset_leaves_the_calendar():
    with pytest.raises(DateParseError):
        parse_date("0001-01-01T00:30:00.000+0100")
    with pytest.raises(DateParseError):
        parse_date("9999-12-31T23:30:00.000-0100")


def test_parse_error_is_a_value_error():
    assert issubclass(DateParseError, ValueError)


# ---------------------------------------------------------------- output


@pytest.mark.parametrize("value, text", [
    (UTC_1233, "2016-01-25T12:33:42.165+0000"),
    (datetime(2016, 1, 25, 12, 33, 42), "2016-01-25T12:33:42.000+0000"),
    (datetime(2016, 1, 25, 12, 33, 42, 999999), "2016-01-25T12:33:42.999+0000"),
    (datetime(2016, 1, 25, 12, 33, 42, 1000), "2016-01-25T12:33:42.001+0000"),
    (datetime(1970, 1, 1), "1970-01-01T00:00:00.000+0000"),
    (datetime(9999, 12, 31, 23, 59, 59, 999000), "9999-12-31T23:59:59.999+0000"),
    # Years below 1000 keep four digits, as Java's yyyy does.
    (datetime(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05.000+0000"),
    (datetime(1, 1, 1), "0001-01-01T00:00:00.000+0000"),
    # Aware datetimes are converted to the output zone.
    (datetime(2016, 1, 25, 13, 33, 42, 165000, tzinfo=timezone(timedelta(hours=1))),
     "2016-01-25T12:33:42.165+0000"),
])
def test_format_in_utc(value, text):
    assert format_date(value) == text
    assert CAMUNDA_FORMAT.match(text)


def test_format_none_is_none():
    assert format_date(None) is None


def test_format_in_a_configured_zone_uses_its_offset():
    assert format_date(UTC_1233, "Europe/Berlin") == "2016-01-25T13:33:42.165+0100"
    assert format_date(datetime(2016, 7, 1, 10), "Europe/Berlin") == "2016-07-01T12:00:00.000+0200"
    assert format_date(datetime(2016, 7, 1, 10), "America/St_Johns") == "2016-07-01T07:30:00.000-0230"
    assert format_date(UTC_1233, "UTC") == "2016-01-25T12:33:42.165+0000"


@pytest.mark.parametrize("value", [
    datetime(2016, 1, 25, 12, 33, 42, 165000), datetime(1, 1, 1), datetime(999, 12, 31, 23, 59, 59, 1000),
    datetime(9999, 12, 31, 23, 59, 59, 999000), datetime(2000, 2, 29),
])
def test_what_we_write_we_read_back(value):
    assert parse_date(format_date(value)) == value
    assert parse_date(format_date(value, "Asia/Kolkata")) == value


def test_a_value_without_zone_is_read_in_the_given_default_zone():
    assert parse_date("2016-01-25T13:33:42.165", "Europe/Berlin") == UTC_1233
    # An explicit zone beats the default.
    assert parse_date("2016-01-25T13:33:42.165Z", "Europe/Berlin") == UTC_1333


def test_utcnow_is_naive_and_millisecond_precise():
    now = utcnow()
    assert now.tzinfo is None
    assert now.microsecond % 1000 == 0
    assert abs(now - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(seconds=5)
    assert truncate_ms(datetime(2016, 1, 1, 0, 0, 0, 123999)) == datetime(2016, 1, 1, 0, 0, 0, 123000)
