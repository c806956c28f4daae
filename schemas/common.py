"""Field types and request helpers shared by every resource's schemas.

Camunda's query parameters arrive two ways: as a JSON body (POST) and as URL parameters (GET).
GET values are converted here with Camunda's own messages
(``Cannot set query parameter 'x' to value 'y': ...``) into the JSON types, and then both go
through the same marshmallow schema, so GET and POST can never disagree.
"""

import json
import re
from dataclasses import dataclass, field

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from app.core.dates import DateParseError, parse_date
from app.core.errors import InvalidRequest, validation_message
from app.core.text import is_storable

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
INT_MAX = 2**31 - 1


class Long(fields.Integer):
    """A Java long: an integer in the signed 64-bit range (larger values would overflow SQL)."""

    default_error_messages = {"invalid": "Not a valid integer.", "range": "Must be a 64-bit integer."}

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if number is not None and not LONG_MIN <= number <= LONG_MAX:
            raise self.make_error("range")
        return number


class Int32(fields.Integer):
    """A Java int."""

    default_error_messages = {"invalid": "Not a valid integer.", "range": "Must be a 32-bit integer."}

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if number is not None and not -(2**31) <= number <= INT_MAX:
            raise self.make_error("range")
        return number


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


class BaseSchema(Schema):
    """Unknown properties are ignored, as Camunda does (spec A6). Every string field refuses
    text the database cannot store, so that such input is a 400 and never a 500 (spec A2)."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name, field_obj):
        for bound in (field_obj, getattr(field_obj, "inner", None)):
            if isinstance(bound, fields.String):
                bound.validators.append(storable_text)
            elif isinstance(bound, fields.Dict):
                bound.validators.append(storable_json)


def load_or_400(schema, data, prefix=""):
    """Load ``data`` with ``schema``; a ValidationError becomes one readable 400 message."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidRequest(validation_message(error.messages, prefix)) from None


_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")


def query_param_error(name, value, java_type=None, reason=None):
    message = f"Cannot set query parameter '{name}' to value '{value}'"
    if java_type:
        message += f": Cannot convert value {value} to java type {java_type}"
    elif reason:
        message += f": {reason}"
    return InvalidRequest(message)


def convert_bool_param(name, value):
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise query_param_error(name, value, "java.lang.Boolean")


def convert_int_param(name, value, java_type="java.lang.Integer", low=-(2**31), high=INT_MAX):
    # Python's int() also takes "1_000" and non-ASCII digits; Java's Integer/Long do not.
    # A 5000-digit value is no number either (and int() refuses it with a ValueError).
    if not _JAVA_INTEGER.fullmatch(value.strip()) or len(value.strip()) > 1000:
        raise query_param_error(name, value, java_type)
    number = int(value.strip(), 10)
    if not low <= number <= high:
        raise query_param_error(name, value, java_type)
    return number


def convert_long_param(name, value):
    return convert_int_param(name, value, "java.lang.Long", LONG_MIN, LONG_MAX)


def split_list_param(values):
    """``a,b`` and repeated parameters (spec A7) both give a list."""
    items = []
    for value in values:
        items.extend(value.split(","))
    return items


def convert_date_param(name, value):
    try:
        return parse_date(value)
    except DateParseError:
        raise query_param_error(name, value, "java.util.Date") from None


def convert_args(args, spec):
    """Convert URL parameters to JSON-typed values.

    ``spec`` maps a parameter name to one of ``str``, ``bool``, ``long``, ``int``, ``list``,
    ``date`` or a callable ``(name, raw_values) -> value``. Unknown parameters are ignored; for
    a repeated scalar parameter the first value counts, as in Camunda.
    """
    converted = {}
    for name, kind in spec.items():
        values = args.getlist(name)
        if not values:
            continue
        first = values[0]
        if kind == "str":
            converted[name] = first
        elif kind == "bool":
            converted[name] = convert_bool_param(name, first)
        elif kind == "long":
            converted[name] = convert_long_param(name, first)
        elif kind == "int":
            converted[name] = convert_int_param(name, first)
        elif kind == "list":
            converted[name] = split_list_param(values)
        elif kind == "date":
            converted[name] = convert_date_param(name, first)
        else:
            converted[name] = kind(name, values)
    return converted


def parse_pagination(args):
    """``firstResult`` / ``maxResults`` (query parameters on GET and POST), non-negative ints."""
    result = {}
    for name in ("firstResult", "maxResults"):
        raw = args.get(name)
        if raw is None or raw == "":
            result[name] = None
            continue
        number = convert_int_param(name, raw)
        if number < 0:
            raise query_param_error(name, raw, reason="must not be negative")
        result[name] = number
    return result["firstResult"], result["maxResults"]


def check_sort_values(sort_by, sort_order, valid_sort_by, from_get):
    """Reject an unknown top-level ``sortBy``/``sortOrder`` as Camunda's DTO setters do."""
    if sort_by is not None and sort_by not in valid_sort_by:
        if from_get:
            raise query_param_error("sortBy", sort_by)
        raise InvalidRequest(f"sortBy parameter has invalid value: {sort_by}")
    if sort_order is not None and sort_order not in ("asc", "desc"):
        if from_get:
            raise query_param_error("sortOrder", sort_order)
        raise InvalidRequest(f"sortOrder parameter has invalid value: {sort_order}")


def check_sort_pair(sort_by, sort_order):
    """Camunda needs both of the top-level pair or neither (checked after the filters)."""
    if (sort_by is None) != (sort_order is None):
        raise InvalidRequest("Only a single sorting parameter specified. sortBy and sortOrder required")


def resolve_ordering(sort_by, sort_order, sorting, valid_sort_by):
    """Camunda's ordering state machine (AbstractQueryDto.applySortingOptions + AbstractQuery).

    The top-level pair comes first, then the ``sorting`` array in order. An entry whose
    ``sortBy`` is unknown is skipped, yet its ``sortOrder`` still applies to whatever ordering
    came before, which gives Camunda's NotValidException messages. ``valid_sort_by`` maps each
    ``sortBy`` value to its column; returns ``[(column, "asc"|"desc")]``, so the services never
    see Camunda's sort vocabulary.
    """
    ordering = []  # [key, direction or None]

    def order_by(key):
        if key in valid_sort_by:
            ordering.append([key, None])

    def direction(value):
        if value not in ("asc", "desc"):
            return
        if not ordering:
            raise InvalidRequest(
                "You should call any of the orderBy methods first before specifying a direction: "
                "currentOrderingProperty is null", type="NotValidException")
        if ordering[-1][1] is not None:
            raise InvalidRequest(
                "Invalid query: can specify only one direction desc() or asc() for an ordering "
                "constraint: direction is not null", type="NotValidException")
        ordering[-1][1] = value

    if sort_by is not None:
        order_by(sort_by)
    if sort_order is not None:
        direction(sort_order)
    for entry in sorting or ():
        if entry.get("sortBy") is not None:
            order_by(entry["sortBy"])
        if entry.get("sortOrder") is not None:
            direction(entry["sortOrder"])
    for key, value in ordering:
        if value is None:
            raise InvalidRequest(
                "Invalid query: call asc() or desc() after using orderByXX(): direction is null",
                type="NotValidException")
    return [(valid_sort_by[key], value) for key, value in ordering]


class SortingEntrySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    # Kept under their wire names: resolve_ordering reads them as Camunda's DTO has them.
    sortBy = fields.String(allow_none=True)  # noqa: N815
    sortOrder = fields.String(allow_none=True)  # noqa: N815


@dataclass
class ResourceQuery:
    """A validated query of any resource: filters (snake_case keys) and the resolved ordering."""

    filters: dict = field(default_factory=dict)
    ordering: list = field(default_factory=list)


def split_list_dropping_empty(name, values):
    """``a,b`` and repeated parameters (A7) into one list; empty items are dropped."""
    return [item for value in values for item in value.split(",") if item != ""]


class QueryBodySchema(BaseSchema):
    """What every query body (POST) has: the sorting properties, and being a JSON object."""

    resource = "query"
    example = "{}"

    sort_by = fields.String(data_key="sortBy", allow_none=True)
    sort_order = fields.String(data_key="sortOrder", allow_none=True)
    sorting = fields.List(fields.Nested(SortingEntrySchema), allow_none=True)

    @pre_load
    def _require_object(self, data, **kwargs):
        if not isinstance(data, dict):
            raise InvalidRequest(f"The {self.resource} must be a JSON object, e.g. {self.example}")
        return data
