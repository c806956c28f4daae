"""The field types of the schemas, and the checks that keep input the databases cannot store out.

marshmallow's own fields with Java's ranges (``Long``, ``Int32``), Camunda's strict booleans
and wire dates; and the fields of the command bodies (schemas.common.CommandSchema), whose
messages are Camunda's or name the property as the client sent it (spec A2).
"""

import json

from marshmallow import ValidationError, fields

from app.core.dates import DateParseError, parse_date
from app.core.text import is_storable

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class _RangedInteger(fields.Integer):
    """marshmallow's integer within the range of a Java type (larger values would overflow SQL)."""

    low, high = LONG_MIN, LONG_MAX
    default_error_messages = {"invalid": "Not a valid integer.", "range": "Must be a 64-bit integer."}

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if number is not None and not self.low <= number <= self.high:
            raise self.make_error("range")
        return number


class Long(_RangedInteger):
    """A Java long."""


class Int32(_RangedInteger):
    """A Java int."""

    low, high = INT_MIN, INT_MAX
    default_error_messages = {"range": "Must be a 32-bit integer."}


class StrictBoolean(fields.Boolean):
    """JSON booleans (and Camunda's GET spellings, already converted); not 1/0 or "yes"."""

    truthy = {True, "true", "True", "TRUE"}
    falsy = {False, "false", "False", "FALSE"}

    def _deserialize(self, value, attr, data, **kwargs):
        # 1 == True and 0 == False in Python, so the sets above alone would let 1 and 0 in.
        if not isinstance(value, (bool, str)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class WireDate(fields.Field):
    """A date on the wire (spec A5): Camunda's pattern, ISO 8601 variants, or epoch milliseconds."""

    default_error_messages = {
        "invalid": "Not a valid date; use yyyy-MM-dd'T'HH:mm:ss.SSSZ, e.g. 2024-01-31T13:45:00.000+0000.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_date(value)
        except DateParseError:
            raise self.make_error("invalid") from None


class StringList(fields.List):
    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)


# Fields of the command bodies, whose messages are Camunda's (or name the property, spec A2).

class _Named(fields.Field):
    """A field whose messages name the property as the client sent it."""

    @property
    def wire_name(self):
        return self.data_key or self.name


class JavaInteger(_Named):
    """An integer as Jackson reads one into a Java int (or long): ``5``, ``"5"`` and ``5.0``;
    booleans, fractions and anything else are refused. ``low=None`` checks the upper bound
    only, for a property whose negative values get Camunda's own message later."""

    def __init__(self, low=INT_MIN, high=INT_MAX, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def _deserialize(self, value, attr, data, **kwargs):
        original = value
        if isinstance(value, str):
            try:
                value = int(value.strip(), 10)
            except ValueError:
                value = None
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(f"{self.wire_name} must be an integer, got {original!r}")
        if self.low is None and value > self.high:
            raise ValidationError(f"{self.wire_name} must be at most {self.high}, got {value}")
        if self.low is not None and not self.low <= value <= self.high:
            raise ValidationError(f"{self.wire_name} must be between {self.low} and {self.high}, got {value}")
        return value


class JsonBoolean(_Named):
    """``true`` or ``false``, nothing else."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(f"{self.wire_name} must be true or false, got {value!r}")
        return value


class Text(_Named):
    """A string the databases can store (app.core.text.is_storable)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(f"{self.wire_name} must be a string, got {value!r}")
        if not is_storable(value):
            raise ValidationError(f"{self.wire_name} must not contain NUL characters or lone surrogates")
        return value


class DueDate(fields.Field):
    """A due date in a command body, refused with Camunda's message."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_date(value)
        except DateParseError:
            raise ValidationError(
                f'Invalid due date format: Cannot convert value "{value}" to java type java.util.Date') from None


# --- what the databases can store ------------------------------------------------------------

def storable_text(value):
    """Strings the databases can store (app.core.text.is_storable), as a marshmallow validator."""
    if isinstance(value, str) and not is_storable(value):
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")
        raise ValidationError("Must be valid Unicode text (no lone surrogates).")


MAX_JSON_DEPTH = 100


def _json_depth(value):
    """How many containers deep ``value`` is (scalar 0, {} 1, [[1]] 2), counted up to the limit + 1."""
    depth, level = 0, [value]
    while depth <= MAX_JSON_DEPTH:
        containers = [node for node in level if isinstance(node, (dict, list))]
        if not containers:
            break
        depth += 1
        level = [child for node in containers for child in (node.values() if isinstance(node, dict) else node)]
    return depth


def storable_json(value):
    """A JSON document the database can store; not so deep that serialising it overflows the stack."""
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise ValidationError(f"Must not be nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Must be valid Unicode text (no lone surrogates).") from None
    except (TypeError, ValueError):
        pass


# --- fields of the response DTOs (the API document; the writers are plain functions) ---------
# Every key of a DTO is always written, nulls included (Camunda's Jackson setting), so every
# field is required; ``nullable=False`` where the writer never writes null.

CAMUNDA_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4}$"


def text_out(nullable=True, **metadata):
    return fields.String(required=True, allow_none=nullable, metadata=metadata)


def int_out(nullable=True, **metadata):
    return Int32(required=True, allow_none=nullable, metadata=metadata)


def long_out(nullable=True, **metadata):
    return Long(required=True, allow_none=nullable, metadata=metadata)


def bool_out(nullable=False, **metadata):
    return fields.Boolean(required=True, allow_none=nullable, metadata=metadata)


def date_out(nullable=True, **metadata):
    """A date as Camunda writes it (spec A4): ``2024-01-31T13:45:00.000+0000``."""
    return fields.String(required=True, allow_none=nullable, metadata={
        "pattern": CAMUNDA_DATE_PATTERN, "example": "2024-01-31T13:45:00.000+0000", **metadata})


def list_out(inner, nullable=False, **metadata):
    return fields.List(inner, required=True, allow_none=nullable, metadata=metadata)
