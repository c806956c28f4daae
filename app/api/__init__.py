"""Blueprints, one module per resource.

Every Camunda resource is served under the base path (``/engine-rest`` by default) and again
under ``<base>/engine/default``: the same blueprint registered twice under two names.
Our extensions (``/api/...``) live outside that namespace.
"""


from app.api import batches, historic_batches, incidents, ingest, job_definitions, jobs


def register_blueprints(app):
    base = app.config["REST_BASE_PATH"]
    for blueprint in (jobs.bp, job_definitions.bp, incidents.bp, batches.bp, historic_batches.bp):
        app.register_blueprint(blueprint, url_prefix=base)
        app.register_blueprint(blueprint, url_prefix=f"{base}/engine/default",
                               name=f"default_engine_{blueprint.name}")
    app.register_blueprint(ingest.bp, url_prefix="/api")
