"""Per request: its id, one log line, and the HTTP metrics (README "Logs" and "Metrics", spec A22).

The request id is the caller's ``X-Request-Id`` when it is a sane token (letters, digits and
``._:-``, at most 128 characters: it goes into log lines as it is), else a new one; it is echoed
in the response's ``X-Request-Id`` and carried by every log record of the request (see
app.core.logs). These hooks run before the authentication hook, so a 401 has an id too.

After each request one line is logged at INFO (``GET /engine-rest/job/count 200 3.1 ms``; the
path without its query string, never a header), and at DEBUG for the health checks and
``/metrics``, which are polled every few seconds. The metrics are labelled with the route
template (``/engine-rest/job/<job_id>``), never the raw path, so their number stays bounded.
"""

import logging
import re
import time
import uuid

from flask import g, request

from app.core.logs import request_id_var
from app.services.metrics import observe_request

log = logging.getLogger("jobservice.access")

HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
QUIET_ENDPOINTS = frozenset({"health.live", "health.ready", "metrics.metrics"})
UNMATCHED = "<unmatched>"


def request_id_from(header):
    return header if header and _SANE_ID.fullmatch(header) else uuid.uuid4().hex


def init_request_context(app):
    """Register the hooks first, before any other ``before_request``."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_end)
    app.teardown_request(_teardown)


def _begin():
    g.request_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(HEADER))
    g.request_id_token = request_id_var.set(g.request_id)


def _end(response):
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before the first hook ran
        return response
    response.headers[HEADER] = request_id
    seconds = time.perf_counter() - g.request_started
    rule = request.url_rule
    observe_request(request.method, rule.rule if rule is not None else UNMATCHED, response.status_code, seconds)
    level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "%s %s %s %.1f ms", request.method, request.path, response.status_code, seconds * 1000)
    return response


def _teardown(error=None):
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)
