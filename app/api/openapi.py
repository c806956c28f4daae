"""The API document at ``<REST_BASE_PATH>/openapi.json`` and Swagger UI at ``/docs`` (spec A21).

The document is generated once per process from the application (app.api.openapi_document).
Swagger UI is served from the files of the ``swagger-ui-bundle`` package, nothing from another
host (it works offline; its online validator badge is off), and its "Authorize" button takes
HTTP Basic credentials for "Try it out". Both are public (app.api.auth.PUBLIC_ENDPOINTS): they
describe the API and hold no data; every call made from the page is authenticated as usual.
"""

import json

from flask import Blueprint, abort, current_app, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

from app.api.common import json_response, responds
from app.api.openapi_document import build_document

document_bp = Blueprint("api_document", __name__)
docs_bp = Blueprint("swagger_ui", __name__)

# The files of the bundle the page loads (no source maps, no sample page pointing elsewhere).
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})
ASSET_MAX_AGE_SECONDS = 24 * 3600


@document_bp.get("/openapi.json")
@responds({"type": "object"}, description="This document (OpenAPI 3.0)")
def get_document():
    """The OpenAPI document of this service, generated from its URL map and schemas."""
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = build_document(current_app)
    return json_response(document)


@docs_bp.get("")
@responds(None, mimetype="text/html", description="Swagger UI")
def page():
    """Swagger UI on this service's OpenAPI document."""
    html = _PAGE.format(
        css=url_for("swagger_ui.asset", filename="swagger-ui.css"),
        icon=url_for("swagger_ui.asset", filename="favicon-32x32.png"),
        js=url_for("swagger_ui.asset", filename="swagger-ui-bundle.js"),
        initializer=url_for("swagger_ui.initializer"),
    )
    return current_app.response_class(html, mimetype="text/html")


@docs_bp.get("/initializer.js")
@responds(None, mimetype="text/javascript", description="Swagger UI's configuration")
def initializer():
    """Starts Swagger UI on the document (a file, not an inline script: a strict
    Content-Security-Policy with script-src 'self' still lets the page work)."""
    config = {
        "url": url_for("api_document.get_document"),
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "validatorUrl": None,  # the default sends the document to validator.swagger.io
        "persistAuthorization": False,
    }
    script = f"window.ui = SwaggerUIBundle({json.dumps(config)});\n"
    return current_app.response_class(script, mimetype="text/javascript")


@docs_bp.get("/<filename>")
@responds(None, mimetype="application/octet-stream", description="A file of Swagger UI")
def asset(filename):
    """A file of Swagger UI, from the swagger-ui-bundle package."""
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), filename, max_age=ASSET_MAX_AGE_SECONDS)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>jobservice API</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{js}"></script>
<script src="{initializer}"></script>
</body>
</html>
"""
