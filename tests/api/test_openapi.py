"""The API document (``/engine-rest/openapi.json``) and Swagger UI (``/docs``), spec A21."""

import re

import pytest
from flask import Blueprint
from openapi_spec_validator import validate

from app import create_app
from app.api.openapi_document import AUTOMATIC_METHODS, build_document
from tests.conftest import RecordingDispatcher

DOCUMENT = "/engine-rest/openapi.json"


@pytest.fixture(scope="module")
def secure_app(app):
    application = create_app("test", overrides={"AUTH_ENABLED": True})
    application.extensions["dispatcher"] = RecordingDispatcher()
    return application


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get(DOCUMENT).get_json()


def openapi_path(rule):
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.0")
    validate(document)


def test_every_rule_and_method_of_the_url_map_is_in_the_document(app, document):
    missing = []
    seen = 0
    for rule in app.url_map.iter_rules():
        for method in rule.methods - AUTOMATIC_METHODS:
            seen += 1
            if method.lower() not in document["paths"].get(openapi_path(rule.rule), {}):
                missing.append((method, rule.rule))
    assert missing == []
    assert seen > 130  # both base paths of every Camunda resource, our extensions, the docs


def test_a_route_nobody_described_is_in_it_with_a_generic_answer():
    application = create_app("test")
    extra = Blueprint("later", __name__)

    @extra.route("/engine-rest/later/<int:number>/<path:rest>", methods=["GET", "PATCH"])
    def later(number, rest):
        return ""

    application.register_blueprint(extra)
    document = build_document(application)
    validate(document)
    path = document["paths"]["/engine-rest/later/{number}/{rest}"]
    assert set(path) == {"get", "patch", "parameters"}
    assert path["parameters"] == [
        {"in": "path", "name": "number", "required": True, "schema": {"type": "integer"}},
        {"in": "path", "name": "rest", "required": True, "schema": {"type": "string", "minLength": 1}},
    ]
    assert "content" not in path["get"]["responses"]["default"]
    assert path["get"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ExceptionDto"}


def test_query_parameters_come_from_the_schema_that_reads_them(document):
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/engine-rest/job"]["get"]["parameters"]}
    assert parameters["noRetriesLeft"] == {"type": "boolean"}
    assert parameters["priorityHigherThanOrEquals"] == {"type": "integer", "format": "int64"}
    assert parameters["jobIds"]["type"] == "array"
    assert parameters["maxResults"] == {"type": "integer", "minimum": 0}
    assert parameters["sortBy"]["enum"][:2] == ["jobId", "executionId"]
    assert parameters["sortOrder"]["enum"] == ["asc", "desc"]
    assert "sorting" not in parameters  # a POST body property, no URL parameter


def test_bodies_and_answers_come_from_the_declared_schemas(document):
    schemas = document["components"]["schemas"]
    retries = document["paths"]["/engine-rest/job/retries"]["post"]
    assert retries["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SetJobRetries"}
    assert schemas["SetJobRetries"]["required"] == ["retries"]
    assert retries["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BatchDto"}
    jobs = document["paths"]["/engine-rest/engine/default/job"]["post"]["responses"]["200"]
    assert jobs["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/JobDto"}}
    assert "X-Next-Page-Token" in jobs["headers"]
    ingest = document["paths"]["/api/jobs"]["post"]
    assert ingest["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert set(ingest["responses"]) >= {"201", "400"}
    assert set(document["paths"]["/engine-rest/job/{job_id}"]["delete"]["responses"]["204"]) == {"description"}
    assert document["paths"]["/engine-rest/job/{job_id}/stacktrace"]["get"]["responses"]["200"]["content"] == {
        "text/plain": {"schema": {"type": "string"}}}
    assert schemas["JobDto"]["additionalProperties"] is False
    assert schemas["JobDto"]["properties"]["dueDate"]["nullable"] is True
    assert sorted(schemas["ExceptionDto"]["required"]) == ["code", "message", "type"]


def test_without_authentication_the_document_asks_for_none(document):
    assert "security" not in document
    assert "securitySchemes" not in document.get("components", {})
    assert "401" not in document["paths"]["/engine-rest/job"]["get"]["responses"]


def test_with_authentication_it_is_public_and_documents_basic_auth(secure_app):
    client = secure_app.test_client()
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["security"] == [{"basicAuth": []}]
    assert document["components"]["securitySchemes"] == {"basicAuth": {"type": "http", "scheme": "basic"}}
    unauthorized = document["paths"]["/engine-rest/job"]["get"]["responses"]["401"]
    assert "WWW-Authenticate" in unauthorized["headers"]
    assert document["paths"]["/engine-rest/openapi.json"]["get"]["security"] == []
    assert "401" not in document["paths"]["/docs"]["get"]["responses"]
    # The rest of the API still asks for credentials.
    assert client.get("/engine-rest/job/count").status_code == 401


def test_swagger_ui_is_served_from_local_assets_only(secure_app):
    client = secure_app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "//" not in html  # no URL of another host, not even a protocol-relative one
    assert "<script>" not in html  # no inline script: a strict Content-Security-Policy still works
    assets = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert "/docs/swagger-ui-bundle.js" in assets and "/docs/initializer.js" in assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 100
    initializer = client.get("/docs/initializer.js").get_data(as_text=True)
    assert '"url": "/engine-rest/openapi.json"' in initializer
    assert '"validatorUrl": null' in initializer
    assert "//" not in initializer
    assert client.get("/docs/swagger-ui-bundle.js").mimetype in ("text/javascript", "application/javascript")


@pytest.mark.parametrize("name", ["index.html", "swagger-initializer.js", "..%2Fswagger-ui.css", "swagger-ui.js.map"])
def test_only_the_files_the_page_needs_are_served(client, name):
    response = client.get(f"/docs/{name}")
    assert response.status_code == 404
    assert response.get_json()["type"] == "NotFoundException"
