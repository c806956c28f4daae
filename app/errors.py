"""The one error module: every 4xx and 5xx leaves as Camunda's ``{"type", "message", "code"}``.

Services raise :class:`ApiError` subclasses named after the Java exceptions Camunda reports
(``type`` is what clients match on); the handlers below also turn Flask's own errors (unknown
path, wrong method, unsupported media type), marshmallow's ``ValidationError`` and anything
unexpected into that shape. No request input is allowed to produce a 500 (spec A2): a 500
means a bug, and is logged with an id the client also sees; a database that is down or too
slow is a 503.
"""

import logging
import uuid

from flask import jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from app.core.errors import ApiError, validation_message

log = logging.getLogger(__name__)


# Werkzeug error -> (type Camunda's JAX-RS container reports, message)
_HTTP_TYPES = {
    404: "NotFoundException",
    405: "NotAllowedException",
    406: "NotAcceptableException",
    413: "RestException",
    415: "NotSupportedException",
}


def _error_response(status, type_, message, code=None):
    response = jsonify({"type": type_, "message": message, "code": code})
    response.status_code = status
    return response


def register_error_handlers(app):
    @app.errorhandler(ApiError)
    def handle_api_error(error):
        # to_dict, not the three keys: some errors carry more (AuthorizationExceptionDto).
        response = jsonify(error.to_dict())
        response.status_code = error.status
        return response

    @app.errorhandler(ValidationError)
    def handle_validation_error(error):
        return _error_response(400, "InvalidRequestException", validation_message(error.messages))

    @app.errorhandler(HTTPException)
    def handle_http_error(error):
        status = error.code or 500
        if status == 404:
            message = f"No resource at {request.method} {request.path}"
        elif status == 405:
            allowed = ", ".join(sorted(error.valid_methods or ()))
            message = f"Method {request.method} is not allowed for {request.path}; allowed: {allowed}"
        elif status == 400:
            message = "The request body is not valid JSON"
        else:
            message = error.description or error.name
        response = _error_response(status, _HTTP_TYPES.get(status, "RestException"), message)
        if status == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response

    # The database is down, restarting, unreachable or too slow (connection refused or cut,
    # "the database system is starting up", statement_timeout, no pooled connection free): a
    # 503 the client may retry, never a 500. The pool reconnects by itself once it is back.
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def handle_database_unavailable(error):
        error_id = uuid.uuid4().hex[:12]
        log.error("database unavailable (error id %s): %s", error_id, error)
        return _error_response(
            503, "ProcessEngineException",
            f"The database is unavailable; try again shortly (error id {error_id})", 0,
        )

    @app.errorhandler(DBAPIError)
    @app.errorhandler(Exception)
    def handle_unexpected(error):
        error_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error (error id %s) on %s %s", error_id, request.method, request.path)
        return _error_response(
            500, "RestException",
            f"An unexpected error occurred; the server log has the details under error id {error_id}",
        )
