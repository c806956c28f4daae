"""Request and response helpers shared by the blueprints: how a view declares its input
(:func:`arguments`) and its answers (:func:`responds`), the JSON body, and the response shapes.

Both declarations are recorded on the view function (``api_arguments``, ``api_responses``), so
that the API document (app.api.openapi_document) is generated from the very schemas that load
the requests; a view without them is still in the document, with a generic answer.
"""

import functools
import json
from dataclasses import dataclass

from flask import Response, current_app, request, stream_with_context

from app.core.errors import InvalidRequest
from schemas.common import load_context


def json_body():
    """The parsed JSON body; an empty body gives None. Malformed JSON is a 400 that says where
    the parser stopped (Camunda answers with an empty message)."""
    raw = request.get_data(cache=True)
    if not raw or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"The request body is not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidRequest("The request body is not valid JSON: nested too deeply") from None


def arguments(schema_class, location="json", context=None, **schema_options):
    """Declare a view's input: a ``schema_class`` (schemas/) loads the JSON body
    (``location="json"``; an empty body is ``None``, the schema says what that means) or the URL
    parameters (``"query"``), and the view receives the result as a positional argument, before
    the path values. Stacked, the top one loads first and comes first.

    The schema's hooks may read the path values and what ``context(*arguments so far)`` returns
    (schemas.common.load_context). Its errors are the answer: an ApiError, or marshmallow's
    ValidationError, which app.errors turns into a 400.
    """
    schema = schema_class(location=location, **schema_options)

    def decorator(view):
        @functools.wraps(view)
        def view_with_arguments(*loaded, **path):
            data = request.args if location == "query" else json_body()
            with load_context({**path, **(context(*loaded) if context else {})}):
                argument = schema.load(data)
            return view(*loaded, argument, **path)

        # functools.wraps copied the inner declarations; this one loads first, so it comes first.
        view_with_arguments.api_arguments = (Argument(schema, location), *getattr(view, "api_arguments", ()))
        return view_with_arguments

    return decorator


@dataclass(frozen=True)
class Argument:
    """What :func:`arguments` declared: the schema instance that loads, and from where."""

    schema: object
    location: str


@dataclass(frozen=True)
class Answer:
    """What :func:`responds` declared: one status of a view and what its body is."""

    status: int
    schema: object = None
    many: bool = False
    mimetype: str = "application/json"
    description: str = ""
    headers: tuple = ()


def responds(schema=None, status=200, many=False, mimetype="application/json", description="", headers=()):
    """Declare what a view answers with ``status``: a body ``schema`` (schemas/; a list of them
    with ``many``), none (``schema=None``, e.g. 204), or text (``mimetype="text/plain"``).
    ``headers``: ``(name, description)`` pairs of response headers. Stacked, one per status.

    Only the API document reads it; the view still shapes its own body (a writer function in
    schemas/ next to the schema, which a test holds to the same keys).
    """
    answer = Answer(status, schema, many, mimetype, description, tuple(headers))

    def decorator(view):
        view.api_responses = (answer, *getattr(view, "api_responses", ()))
        return view

    return decorator


def output_zone():
    return current_app.config["OUTPUT_TIMEZONE"]


def json_response(payload, status=200):
    response = current_app.response_class(
        json.dumps(payload, separators=(",", ":")), status=status, mimetype="application/json")
    return response


def no_content():
    return Response(status=204)


def count_response(count):
    return json_response({"count": count})


def streamed_json_array(items, chunk_size=500):
    """A JSON array written as it is read: the server never holds the whole list (spec A12)."""

    def generate():
        yield "["
        first = True
        buffer = []
        for item in items:
            buffer.append(json.dumps(item, separators=(",", ":")))
            if len(buffer) >= chunk_size:
                yield ("" if first else ",") + ",".join(buffer)
                first = False
                buffer = []
        if buffer:
            yield ("" if first else ",") + ",".join(buffer)
        yield "]"

    return Response(stream_with_context(generate()), mimetype="application/json")
