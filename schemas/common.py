"""The one way input is loaded: marshmallow schemas, their bases and hooks.

A view declares its input with ``app.api.common.arguments(SomeSchema, location=...)``: the
schema loads the JSON body (``location="json"``) or the URL parameters (``"query"``) and the
view receives the result. Every schema runs its checks in Camunda's order:

1. ``pre_load`` (:meth:`BaseSchema.from_wire`, the only one): the shape of the input (a JSON
   object, what an empty body means), then :meth:`BaseSchema.check_first` for what Camunda
   checks before it reads any property; URL parameters are converted here from text to JSON
   types with Camunda's ``Cannot set query parameter ...`` messages, in field order.
2. The fields, in the order they are declared. "Absent" and "null" stay apart: a field without
   ``load_default`` leaves an absent property out of the result, and ``allow_none`` keeps an
   explicit null.
3. ``validates_schema`` for checks across fields, then ``post_load`` builds the request object.

Two kinds of answer. A query schema (schemas.query.QuerySchema) reports every field error in one
readable message: it lets marshmallow's ``ValidationError`` through and ``app.errors`` turns it
into a 400. A command schema (:class:`CommandSchema`) answers, like Camunda's DTO checks, with
the first failure in that order, word for word (an ``InvalidRequest``). A check whose answer is
not a plain 400 ``InvalidRequestException`` (a ``RestException``, Camunda's ``Cannot set query
parameter`` messages) raises its ``ApiError`` on the spot.

Field types are in schemas.fields; queries, sorting and pages in schemas.query. Only
``app.core`` is imported by schemas/: they know nothing of Flask, the database or the services
(an import-linter contract in setup.cfg).
"""

import re
from contextlib import contextmanager
from contextvars import ContextVar

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, pre_load

from app.core.dates import DateParseError, parse_date
from app.core.errors import InvalidRequest, validation_message
from schemas.fields import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    Int32,
    Long,
    StrictBoolean,
    int_out,
    long_out,
    storable_json,
    storable_text,
    text_out,
)

# What a schema's hooks may need besides the input: the view's path values (``job_id`` for
# Camunda's priority message), configured limits, an argument loaded before this one.
# marshmallow 3.24 deprecated ``Schema.context`` in favour of a ContextVar; ``arguments``
# (app.api.common) fills this one for the duration of one load.
_load_context = ContextVar("load_context", default={})


@contextmanager
def load_context(values):
    token = _load_context.set(values)
    try:
        yield
    finally:
        _load_context.reset(token)


def context_value(name):
    return _load_context.get()[name]


# --- URL parameters (spec A7) ----------------------------------------------------------------

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


def convert_int_param(name, value, java_type="java.lang.Integer", low=INT_MIN, high=INT_MAX):
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


def convert_date_param(name, value):
    try:
        return parse_date(value)
    except DateParseError:
        raise query_param_error(name, value, "java.util.Date") from None


# A URL converter turns a parameter's values (all of them: ``a,b`` and repeated parameters both
# make lists) into the JSON value its field loads: ``convert(name, values) -> value``. For a
# single value the first one counts, as in Camunda.

def first_value(convert):
    return lambda name, values: convert(name, values[0])


url_text = first_value(lambda name, value: value)
url_boolean = first_value(convert_bool_param)
url_int = first_value(convert_int_param)
url_long = first_value(convert_long_param)
url_date = first_value(convert_date_param)


def split_list_param(name, values):
    """``a,b`` and repeated parameters both give a list; ``x=`` is the list ``[""]``."""
    return [item for value in values for item in value.split(",")]


def split_list_dropping_empty(name, values):
    """``a,b`` and repeated parameters into one list; empty items are dropped."""
    return [item for value in values for item in value.split(",") if item != ""]


def url(convert):
    """Field metadata naming the URL converter of a field (``None``: no URL parameter)."""
    return {"url": convert}


def _url_converter(field_obj):
    """The field's own converter, else the one its type implies."""
    if "url" in field_obj.metadata:
        return field_obj.metadata["url"]
    if isinstance(field_obj, StrictBoolean):
        return url_boolean
    if isinstance(field_obj, Long):
        return url_long
    if isinstance(field_obj, Int32):
        return url_int
    if isinstance(field_obj, fields.String):
        return url_text
    raise TypeError(f"{field_obj!r} needs url(...) metadata to be read from URL parameters")


# --- schema bases ------------------------------------------------------------------------------

class BaseSchema(Schema):
    """Unknown properties are ignored, as Camunda does (spec A6). Every string field refuses
    text the database cannot store, so that such input is a 400 and never a 500 (spec A2),
    unless the schema says that such text matches nothing instead (``refuse_unstorable_text``).

    ``location`` says what the schema reads: ``"json"``, a parsed JSON body (``None`` when the
    body is empty), or ``"query"``, the URL parameters (a mapping with ``getlist``).
    """

    refuse_unstorable_text = True

    class Meta:
        unknown = EXCLUDE

    def __init__(self, *args, location="json", **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        if location == "query":
            # (wire name, field, converter): read here and by the API document (app.api.openapi_document).
            self.url_parameters = [(field_obj.data_key or name, field_obj, _url_converter(field_obj))
                                   for name, field_obj in self.load_fields.items()]

    def on_bind_field(self, field_name, field_obj):
        if not self.refuse_unstorable_text:
            return
        for bound in (field_obj, getattr(field_obj, "inner", None)):
            check = storable_text if isinstance(bound, fields.String) else (
                storable_json if isinstance(bound, fields.Dict) else None)
            if check is not None and check not in bound.validators:
                # A new list: marshmallow copies fields shallowly, so every instance of the
                # schema would otherwise add the check to one shared list again.
                bound.validators = [*bound.validators, check]

    @pre_load(pass_many=True)
    def from_wire(self, data, many, **kwargs):
        """Step 1 of the module docstring. The one ``pre_load``: marshmallow runs several in
        alphabetical order, which would hide the order of the checks."""
        if self.location == "query":
            self.check_first(data)
            return self.convert_url_params(data)
        data = self.from_json(data)
        self.check_first(data)
        return data

    def from_json(self, body):
        """The parsed JSON body as the fields expect it (a dict, or a list with ``many``)."""
        return body

    def check_first(self, data):
        """What Camunda checks before it reads any property (raise an ApiError)."""

    def convert_url_params(self, args):
        """URL parameters converted to JSON types, one field after the other; unknown ones
        are ignored (A6), and the first value that does not convert is the answer."""
        converted = {}
        for name, _field, convert in self.url_parameters:
            values = args.getlist(name)
            if values and convert is not None:
                converted[name] = convert(name, values)
        return converted


def _first_message(messages):
    """The first message in marshmallow's error dict, which keeps the order of the checks."""
    while isinstance(messages, (dict, list)):
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return messages


class CommandSchema(BaseSchema):
    """A command's JSON body, answered with the first failing check, word for word.

    ``example`` completes the message for a body that is not a JSON object; an empty body is
    ``{}`` (Camunda's DTO with every property null) unless ``empty_body_is_empty_object`` is off.
    """

    example = "{}"
    not_an_object = "The request body must be a JSON object, e.g. {example}"
    empty_body_is_empty_object = True

    def from_json(self, body):
        if body is None and self.empty_body_is_empty_object:
            return {}
        if not isinstance(body, dict):
            raise InvalidRequest(self.not_an_object.format(example=self.example))
        return body

    def handle_error(self, error, data, **kwargs):
        raise InvalidRequest(_first_message(error.messages)) from None


def load_or_400(schema, data, prefix=""):
    """Load ``data`` with ``schema`` outside a view (a body nested in another body): a
    ValidationError becomes one readable 400 message whose paths start with ``prefix``."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidRequest(validation_message(error.messages, prefix)) from None


# --- response DTOs ---------------------------------------------------------------------------

class _Dto(Schema):
    class Meta:
        unknown = RAISE  # the document says: no other keys (additionalProperties: false)


class _OpenDto(Schema):
    class Meta:
        unknown = INCLUDE  # subclasses of the exception carry more keys


def dto_schema(name, properties, description="", open_ended=False):
    """The shape of a response DTO, for the API document (app.api.openapi_document): a schema
    class named ``name`` with ``properties`` (wire name -> field of schemas.fields ``*_out``), in
    the order the writer function beside it writes them. The writers stay plain functions (a
    marshmallow dump per row would cost more than the query); tests/unit/test_dto_schemas.py
    holds each writer to its schema, and the schemathesis run holds the answers to both."""
    schema = (_OpenDto if open_ended else _Dto).from_dict(properties, name=name)
    schema.__doc__ = description or f"Camunda's {name}."
    return schema


ErrorDto = dto_schema("ExceptionDto", {
    "type": text_out(nullable=False, description="The exception's class name: what a client matches on"),
    "message": text_out(description="What was wrong, for a person to act on"),
    "code": int_out(description="Camunda's error code; null for errors of the REST layer"),
}, "Every error (4xx, 5xx): Camunda's exception JSON. A 403 carries AuthorizationExceptionDto's "
   "userId and missingAuthorizations as well.", open_ended=True)

CountDto = dto_schema("CountResultDto", {"count": long_out(nullable=False)},
                      "The number of results of a query.")
