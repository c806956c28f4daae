"""``GET /metrics``: Prometheus's text format (README "Metrics", spec A22).

Authentication: with ``METRICS_TOKEN`` set, a scraper sends ``Authorization: Bearer <token>``
(Prometheus's ``authorization`` / ``bearer_token`` setting) and HTTP Basic is not asked for
on this endpoint; without it, ``/metrics`` is guarded like every other route (HTTP Basic for
any user when ``AUTH_ENABLED``, open otherwise).
"""

from flask import Blueprint, current_app, request

from app.api.auth import unauthorized
from app.services.metrics import bearer_token_matches, exposition

bp = Blueprint("metrics", __name__)

ENDPOINT = "metrics.metrics"
BAD_TOKEN = "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>"


@bp.before_request
def require_token():
    token = current_app.config["METRICS_TOKEN"]
    if token and not bearer_token_matches(request.headers.get("Authorization"), token):
        response = unauthorized(BAD_TOKEN)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return None


@bp.get("")
def metrics():
    body, content_type = exposition(current_app._get_current_object())
    response = current_app.response_class(body, mimetype=None, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
