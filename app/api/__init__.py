"""Blueprints, one module per resource.

Every Camunda resource is served under the base path (``/engine-rest`` by default) and again
under ``<base>/engine/default``: the same blueprint registered twice under two names. Other
engine names, ``GET /engine`` and trailing slashes: app.api.engines.
Our extensions (``/api/...``) live outside that namespace.
The API document (``<base>/openapi.json``) and Swagger UI (``/docs``) describe all of them
(app.api.openapi).
"""


from app.api import (
    authorizations,
    batches,
    engines,
    groups,
    health,
    historic_batches,
    identity,
    incidents,
    ingest,
    job_definitions,
    job_log,
    jobs,
    metrics,
    openapi,
    process_instances,
    tenants,
    user_operations,
    users,
    workers,
)

CAMUNDA_BLUEPRINTS = (
    jobs.bp, job_definitions.bp, process_instances.bp, incidents.bp, batches.bp, historic_batches.bp, job_log.bp,
    users.bp, groups.bp, tenants.bp, authorizations.bp, identity.bp, user_operations.bp,
    engines.version_bp,
)


def register_blueprints(app):
    base = app.config["REST_BASE_PATH"]
    app.register_blueprint(engines.bp, url_prefix=base)  # GET /engine: un-prefixed only (C.1)
    for blueprint in CAMUNDA_BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=base)
        app.register_blueprint(blueprint, url_prefix=f"{base}/engine/default",
                               name=f"default_engine_{blueprint.name}")
    app.register_blueprint(ingest.bp, url_prefix="/api")
    # Operations, outside the Camunda namespace (spec A22).
    app.register_blueprint(health.bp, url_prefix="/health")
    app.register_blueprint(metrics.bp, url_prefix="/metrics")
    app.register_blueprint(openapi.document_bp, url_prefix=base)
    app.register_blueprint(openapi.docs_bp, url_prefix="/docs")
    app.register_blueprint(workers.bp, url_prefix="/api")
