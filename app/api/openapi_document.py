"""The API document: OpenAPI 3.0, generated from the application itself (spec A21).

Nothing here lists a route. Every rule of ``app.url_map`` is an operation per method (HEAD and
OPTIONS, which Flask adds by itself, aside), with its path parameters from the rule's
converters. What a view declares is added to it:

- ``@arguments(Schema, location=...)`` (app.api.common): the schema that loads the request is
  the request body (``json``) or the query parameters (``query``), through apispec's marshmallow
  plugin; a query parameter's type comes from the converter the schema reads it with;
- ``@responds(Schema, status=..., many=...)``: the answers; a view without any gets a generic
  ``default`` answer, so a route added later is in the document before anyone describes it.

Every operation may also answer Camunda's exception JSON (schemas.common.ErrorDto) with 400,
404 and 503, and with 401 (with ``WWW-Authenticate``) and 403 when authentication is on.
"""

import inspect
import re
from importlib import metadata

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import fields
from werkzeug.routing import FloatConverter, IntegerConverter

from app.api.auth import PUBLIC_ENDPOINTS, REALM
from schemas.common import (
    ErrorDto,
    split_list_dropping_empty,
    split_list_param,
    url_boolean,
    url_date,
    url_int,
    url_long,
    url_text,
)
from schemas.fields import DueDate, Int32, JavaInteger, JsonBoolean, Long, Text, WireDate

OPENAPI_VERSION = "3.0.3"
AUTOMATIC_METHODS = frozenset({"HEAD", "OPTIONS"})
SECURITY_SCHEME = "basicAuth"
DEFAULT_ENGINE_PREFIX = "default_engine_"

# Our field classes that are not subclasses of marshmallow's typed fields.
FIELD_TYPES = {
    JavaInteger: ("integer", None),
    JsonBoolean: ("boolean", None),
    Text: ("string", None),
    DueDate: ("string", None),
    WireDate: ("string", None),
    Long: ("integer", "int64"),
    Int32: ("integer", "int32"),
}

# How a URL parameter is read (schemas.common) -> its schema in the document.
URL_TYPES = {
    url_boolean: {"type": "boolean"},
    url_int: {"type": "integer", "format": "int32"},
    url_long: {"type": "integer", "format": "int64"},
    url_text: {"type": "string"},
    url_date: {"type": "string", "description": "A date: yyyy-MM-dd'T'HH:mm:ss.SSSZ, ISO 8601, or epoch "
                                                "milliseconds (spec A5)"},
    split_list_param: {"type": "array", "items": {"type": "string"}},
    split_list_dropping_empty: {"type": "array", "items": {"type": "string"}},
}

ERROR_DESCRIPTIONS = {
    400: "The request is not valid (Camunda's InvalidRequestException and others)",
    401: "No valid HTTP Basic credentials",
    403: "The user lacks a permission (AuthorizationExceptionDto)",
    404: "No such resource",
    503: "The database is unavailable; try again shortly",
}


def build_document(app):
    """The OpenAPI document of ``app`` as a dict (valid per openapi-spec-validator)."""
    auth = bool(app.config["AUTH_ENABLED"])
    plugin = MarshmallowPlugin(schema_name_resolver=_SchemaNames())
    options = {"info": {"description": _DESCRIPTION}}
    if auth:
        options["security"] = [{SECURITY_SCHEME: []}]
    spec = APISpec(title="jobservice", version=_version(), openapi_version=OPENAPI_VERSION,
                   plugins=[plugin], **options)
    for field_class, (type_, format_) in FIELD_TYPES.items():
        plugin.map_to_openapi_type(field_class, type_, format_)
    spec.components.schema("ExceptionDto", schema=ErrorDto)
    if auth:
        spec.components.security_scheme(SECURITY_SCHEME, {"type": "http", "scheme": "basic"})

    paths = {}
    operation_ids = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        path, parameters = _path_and_parameters(rule, app.url_map.converters)
        entry = paths.setdefault(path, {"parameters": parameters, "operations": {}})
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - AUTOMATIC_METHODS):
            operation = _operation(rule, view, method, plugin, auth)
            operation["operationId"] = _unique(f"{rule.endpoint}.{method.lower()}", operation_ids)
            entry["operations"].setdefault(method.lower(), operation)
    for path, entry in paths.items():
        spec.path(path=path, operations=entry["operations"], parameters=entry["parameters"])
    return spec.to_dict()


_DESCRIPTION = (
    "Camunda 7.24's REST API for jobs, job definitions, incidents, batches and identity, under "
    "/engine-rest and /engine-rest/engine/default, and our extensions. Generated from the service's "
    "own URL map and schemas. Errors are Camunda's exception JSON {type, message, code}."
)


def _version():
    try:
        return metadata.version("jobservice")
    except metadata.PackageNotFoundError:
        return "0"


class _SchemaNames:
    """A component name per schema class: the class name without ``Schema``; a second class of
    the same name (another module) gets its module's name in front."""

    def __init__(self):
        self.classes = {}

    def __call__(self, schema):
        schema_class = resolve_schema_cls(schema)
        name = schema_class.__name__.removesuffix("Schema").strip("_") or schema_class.__name__
        if self.classes.setdefault(name, schema_class) is not schema_class:
            module = schema_class.__module__.rsplit(".", 1)[-1].title().replace("_", "")
            name = f"{module}{name}"
            self.classes.setdefault(name, schema_class)
        return name


def _unique(name, taken):
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


_RULE_VARIABLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?"
                            r"(?P<variable>[a-zA-Z_][a-zA-Z0-9_]*)>")


def _path_and_parameters(rule, converters):
    """``/job/<job_id>`` -> ``/job/{job_id}`` and its path parameters."""
    parameters = []

    def variable(match):
        converter = converters.get(match["converter"] or "default")
        parameters.append({"in": "path", "name": match["variable"], "required": True,
                           "schema": _path_schema(converter)})
        return "{" + match["variable"] + "}"

    return _RULE_VARIABLE.sub(variable, rule.rule), parameters


def _path_schema(converter):
    if converter is not None and issubclass(converter, IntegerConverter):
        return {"type": "integer"}
    if converter is not None and issubclass(converter, FloatConverter):
        return {"type": "number"}
    return {"type": "string", "minLength": 1}


def _operation(rule, view, method, plugin, auth):
    blueprint = rule.endpoint.rpartition(".")[0]
    tag = blueprint.removeprefix(DEFAULT_ENGINE_PREFIX) or "application"
    if blueprint.startswith(DEFAULT_ENGINE_PREFIX):
        tag += " (engine/default)"
    operation = {"tags": [tag], "responses": _responses(view, auth and rule.endpoint not in PUBLIC_ENDPOINTS)}
    doc = inspect.getdoc(view)
    if doc:
        operation["summary"] = doc.split("\n\n", 1)[0].replace("\n", " ")
        operation["description"] = doc
    parameters = []
    for argument in getattr(view, "api_arguments", ()):
        if argument.location == "query":
            parameters.extend(_query_parameters(argument.schema, plugin))
        else:
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": argument.schema}},
            }
    if parameters:
        operation["parameters"] = parameters
    if auth and rule.endpoint in PUBLIC_ENDPOINTS:
        operation["security"] = []
    return operation


def _query_parameters(schema, plugin):
    """One parameter per URL parameter the schema reads, typed by how it reads it."""
    parameters = []
    for name, field, convert in schema.url_parameters:
        if convert is None:
            continue
        prop = _url_schema(field, convert, plugin)
        if name == "sortBy" and getattr(schema, "sort_keys", None):
            prop["enum"] = list(schema.sort_keys)
        elif name == "sortOrder":
            prop["enum"] = ["asc", "desc"]
        parameters.append({"in": "query", "name": name, "required": False, "schema": prop})
    return parameters


def _url_schema(field, convert, plugin):
    if convert in URL_TYPES:
        prop = dict(URL_TYPES[convert])
    else:
        # A converter of its own: the field's type (and metadata) say what it takes.
        prop = plugin.converter.field2property(field)
    prop.pop("nullable", None)
    prop.pop("default", None)
    if prop.get("type") == "array":
        items = prop.get("items") or {}
        if items.get("type") not in ("string", "integer", "boolean", "number"):
            prop["items"] = {"type": "string"}
    elif "$ref" in prop or prop.get("type") in (None, "object"):
        prop = {key: value for key, value in prop.items() if key in ("description", "example")}
        prop["type"] = "string"
    if isinstance(field, fields.List) and prop.get("type") == "array":
        prop.setdefault("description", "Comma-separated, or the parameter repeated")
    return prop


def _responses(view, authenticated):
    responses = {}
    for answer in getattr(view, "api_responses", ()):
        entry = {"description": answer.description or _STATUS_TEXT.get(answer.status, "Answer")}
        content = _content(answer)
        if content:
            entry["content"] = content
        if answer.headers:
            entry["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                for name, text in answer.headers}
        responses[str(answer.status)] = entry
    if not responses:
        responses["default"] = {"description": "Not described: the view declares no @responds (app.api.common)"}
    statuses = [400, 404, 503] + ([401, 403] if authenticated else [])
    for status in sorted(statuses):
        entry = {"description": ERROR_DESCRIPTIONS[status],
                 "content": {"application/json": {"schema": "ExceptionDto"}}}
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {
                "description": f'Basic realm="{REALM}"', "schema": {"type": "string"}}}
        responses.setdefault(str(status), entry)
    return responses


def _content(answer):
    if answer.schema is None:
        if answer.mimetype == "application/json":
            return None  # no body (204)
        return {answer.mimetype: {"schema": {"type": "string"}}}
    schema = answer.schema
    if isinstance(schema, type):
        schema = schema(many=answer.many)
    return {answer.mimetype: {"schema": schema}}


_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content"}
