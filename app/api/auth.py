"""HTTP Basic authentication on every route, as Camunda's ``ProcessEngineAuthenticationFilter`` does (C.6).

With ``AUTH_ENABLED`` on, one ``before_request`` hook on the application (not on a blueprint,
so a route added later is covered without anyone remembering to) authenticates each request
before it is routed: an unknown path or a wrong method answers 401 as well, so nothing about
the API is visible without credentials. Only endpoints in :data:`PUBLIC_ENDPOINTS` (the health
checks) are let through, and ``/metrics`` when ``METRICS_TOKEN`` guards it instead (spec A22);
tests/security enumerates the URL map to prove it.

A missing, malformed or wrong credential is a 401 with ``WWW-Authenticate: Basic
realm="default"`` (the engine name, as Camunda's realm) and Camunda's error JSON; the message
says what was wrong with the header, never whether the user exists. Camunda answers 401 with
no body; the JSON is a deliberate difference (every error of this service has that shape).
"""

import base64
import binascii
import logging

from flask import current_app, g, request

from app.api.common import json_response
from app.services.auth import authenticate, init_credential_cache

log = logging.getLogger(__name__)

REALM = "default"
# Endpoint names served without authentication; keep it short: the health checks
# (app.api.health); GET /engine, the one path Camunda's filter never protects (spec C.6):
# Cockpit lists the engines before logging in; the API document and Swagger UI, which describe
# the API and hold no data (spec A21); the operator console's page shells and assets, which hold
# no data and must load before the login (spec A23): everything they show comes from the API
# with the operator's credentials.
PUBLIC_ENDPOINTS = frozenset({
    "health.live", "health.ready", "engines.engine_names",
    "api_document.get_document", "swagger_ui.page", "swagger_ui.initializer", "swagger_ui.asset",
    "console.index", "console.page", "console.job", "console.batch", "console.static",
})
# Endpoints that check a token of their own when one is configured (app.api.metrics): the Basic
# check is skipped for them then, never otherwise.
TOKEN_ENDPOINTS = {"metrics.metrics": "METRICS_TOKEN"}

MISSING = "Authentication required: send HTTP Basic credentials (Authorization: Basic base64(user:password))"
MALFORMED = "The Authorization header is not HTTP Basic credentials (Authorization: Basic base64(user:password))"
REFUSED = "The user name or password is not valid"


def init_authentication(app):
    """Called by the factory: the credential cache always, the hook when ``AUTH_ENABLED``."""
    init_credential_cache(app)
    if app.config["AUTH_ENABLED"]:
        app.before_request(require_authentication)
    elif not app.config.get("TESTING"):
        log.warning("authentication is OFF (AUTH_ENABLED=false): anyone who can reach this service may read "
                    "and change every job and batch; run it only behind a gateway that authenticates, or on "
                    "127.0.0.1")


def current_authentication():
    """The caller's Authentication, or None when authentication is off (nothing is checked then)."""
    return g.get("authentication")


def unauthorized(message):
    response = json_response({"type": "InvalidRequestException", "message": message, "code": None}, status=401)
    response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return response


def basic_credentials(header):
    """``(user, password)`` from ``Basic base64(user:password)``; None if the header is not that.

    As Camunda: the scheme is case-sensitive ``Basic``, the split is at the first colon.
    """
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic "):].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def require_authentication():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token_setting = TOKEN_ENDPOINTS.get(request.endpoint)
    if token_setting and current_app.config[token_setting]:
        return None
    header = request.headers.get("Authorization")
    if not header:
        return unauthorized(MISSING)
    credentials = basic_credentials(header)
    if credentials is None:
        return unauthorized(MALFORMED)
    authentication = authenticate(*credentials)
    if authentication is None:
        current_app.logger.info("authentication failed from %s", request.remote_addr)
        return unauthorized(REFUSED)
    g.authentication = authentication
    return None
