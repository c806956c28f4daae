"""Camunda's error vocabulary: exception classes that carry the HTTP status and Camunda ``type``.

Services and schemas raise these; ``app.errors`` turns them (and everything else) into
Camunda's ``{"type", "message", "code"}`` JSON. ``type`` is what clients match on, so the
classes are named after the Java exceptions Camunda reports.
"""


class ApiError(Exception):
    """An error with the HTTP status and Camunda ``type`` it is reported with."""

    status = 400
    type = "InvalidRequestException"
    code = None

    def __init__(self, message, status=None, type=None, code=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        if code is not None:
            self.code = code

    def to_dict(self):
        """The response body; subclasses with more to say (AuthorizationExceptionDto) add to it."""
        return {"type": self.type, "message": self.message, "code": self.code}


class InvalidRequest(ApiError):
    """Camunda's ``InvalidRequestException``: 400 unless another status is given."""


class NotFound(InvalidRequest):
    """Camunda reports unknown ids as ``InvalidRequestException`` with status 404."""

    status = 404


class RestException(ApiError):
    type = "RestException"


class BadUserRequest(ApiError):
    type = "BadUserRequestException"
    code = 0


def validation_message(messages, prefix=""):
    """Flatten marshmallow's nested error dict into one sentence a person can act on."""
    parts = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [str(key)])
        elif isinstance(node, list) and node and all(isinstance(item, str) for item in node):
            where = ".".join(path) if path else "body"
            parts.append(f"{where}: {' '.join(node)}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [str(index)])
        else:
            parts.append(f"{'.'.join(path) or 'body'}: {node}")

    walk(messages, [])
    return prefix + "; ".join(parts)
