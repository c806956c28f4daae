"""The engine list, the version, and the named-engine prefix (spec C.1, C.2; A18).

* ``GET <base>/engine`` lists our one engine, ``[{"name": "default"}]`` (Cockpit's engine
  list). Only un-prefixed, as in Camunda, and the one path Camunda's authentication filter
  never protects: it is in :data:`app.api.auth.PUBLIC_ENDPOINTS`.
* ``GET <base>/version`` (and ``<base>/engine/{name}/version``) reports the Camunda REST API
  version this service implements (:data:`CAMUNDA_API_VERSION`, A18).
* Every Camunda resource is registered under ``<base>`` and ``<base>/engine/default``
  (app.api.register_blueprints). Any other engine name is answered here, by a hook that runs
  before authentication, as Camunda answers it (C.2): with authentication on, 404
  ``Process engine <name> not available`` before the credentials are looked at (Camunda's
  filter checks the engine first); with it off, 400 ``No process engine available`` for a path
  that exists under the default engine (the resource fails when it first asks for its engine),
  200 for ``version`` (which never asks), and the ordinary 404/405 for a path or method that does not.
* Trailing slashes: the URL map is built with ``strict_slashes = False`` (app factory), so
  ``/batch/statistics/`` is ``/batch/statistics`` for every route and method, without a
  redirect (a redirected POST would lose its body in some clients).
"""

from flask import Blueprint, current_app, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as NoRoute
from werkzeug.routing import RequestRedirect

from app.api.common import json_response
from app.core.errors import InvalidRequest, NotFound
from app.core.names import CAMUNDA_API_VERSION, DEFAULT_ENGINE

bp = Blueprint("engines", __name__)
version_bp = Blueprint("version", __name__)


@bp.get("/engine")
def engine_names():
    return json_response([{"name": DEFAULT_ENGINE}])


@version_bp.get("/version")
def version():
    return json_response({"version": CAMUNDA_API_VERSION})


def _unknown_engine(base, path):
    """``(name, rest)`` when ``path`` is ``<base>/engine/<name>[/rest]`` with a name other than
    ``default``; None otherwise (``<base>/engine`` and ``<base>/engine/`` are the engine list)."""
    prefix = f"{base}/engine/"
    if not path.startswith(prefix):
        return None
    name, _, rest = path[len(prefix):].partition("/")
    if name in ("", DEFAULT_ENGINE):
        return None
    return name, rest


def _route_exists(base, rest):
    """Whether ``<base>/<rest>`` is a route (as under the default engine); a route that exists
    for other methods only is the 405 it is there."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(f"{base}/{rest}", method=request.method)
    except (NoRoute, RequestRedirect):  # a redirect: "//" in the path, which Camunda does not serve
        return False
    except MethodNotAllowed as error:
        raise MethodNotAllowed(valid_methods=error.valid_methods) from None
    return True


def check_engine_name():
    """``before_request``, registered ahead of authentication (C.2)."""
    base = current_app.config["REST_BASE_PATH"]
    unknown = _unknown_engine(base, request.path)
    if unknown is None:
        return None
    name, rest = unknown
    if current_app.config["AUTH_ENABLED"]:
        raise NotFound(f"Process engine {name} not available")
    if rest.rstrip("/") == "version" and request.method in ("GET", "HEAD"):
        return version()
    if rest and _route_exists(base, rest):
        raise InvalidRequest("No process engine available")
    return None  # routing answers: 404 for a path that does not exist


def init_engines(app):
    """Called by the factory before authentication is installed."""
    app.before_request(check_engine_name)
