"""Blueprints, one module per resource.

Every Camunda resource is served under the base path (``/engine-rest`` by default) and again
under ``<base>/engine/default``: the same blueprint registered twice under two names.
Our extensions (``/api/...``) live outside that namespace.
"""


from app.api import (
    authorizations,
    batches,
    groups,
    historic_batches,
    identity,
    incidents,
    ingest,
    job_definitions,
    job_log,
    jobs,
    tenants,
    users,
)

CAMUNDA_BLUEPRINTS = (
    jobs.bp, job_definitions.bp, incidents.bp, batches.bp, historic_batches.bp, job_log.bp,
    users.bp, groups.bp, tenants.bp, authorizations.bp, identity.bp,
)


def register_blueprints(app):
    base = app.config["REST_BASE_PATH"]
    for blueprint in CAMUNDA_BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=base)
        app.register_blueprint(blueprint, url_prefix=f"{base}/engine/default",
                               name=f"default_engine_{blueprint.name}")
    app.register_blueprint(ingest.bp, url_prefix="/api")
