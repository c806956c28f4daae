"""Health checks for load balancers and orchestrators (README "Health checks", spec A22).

``GET /health/live``: the process answers (no database, no broker: a liveness probe must not
restart a web process because PostgreSQL is down). ``GET /health/ready``: the database answers
at the head migration and the broker answers; 503 otherwise, so that a load balancer sends no
traffic to an instance that could only fail. Both are served without authentication
(app.api.auth.PUBLIC_ENDPOINTS) and say nothing but UP or DOWN and why in a few words.
"""

from flask import Blueprint

from app.api.common import json_response
from app.services.health import readiness

bp = Blueprint("health", __name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live")
def live():
    return _no_store(json_response({"status": "UP"}))


@bp.get("/ready")
def ready():
    is_ready, checks = readiness()
    return _no_store(json_response({"status": "UP" if is_ready else "DOWN", "checks": checks},
                                   status=200 if is_ready else 503))
