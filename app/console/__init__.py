"""The operator console at ``/console/`` (decision A23): server-rendered page shells whose
JavaScript (``static/js``, ES modules, no build step, nothing from a CDN) calls the REST API.

The pages hold no data: every job, batch and worker the console shows is read, and every action
it takes is made, by the browser through the same REST routes, services and permission checks
as any other client, with the operator's HTTP Basic credentials. That is why the page shells and
their assets are served without authentication (app.api.auth.PUBLIC_ENDPOINTS): the login page
must load before there are credentials, and nothing in them is worth protecting.
"""

from flask import Blueprint, abort, current_app, redirect, render_template, url_for

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

# page name -> (template, title, navigation entry or None)
PAGES = {
    "login": ("login.html", "Log in", None),
    "failed-jobs": ("failed_jobs.html", "Failed jobs", "Failed jobs"),
    "revive": ("revive.html", "Revive failed jobs", "Revive"),
    "batches": ("batches.html", "Batches", "Batches"),
    "workers": ("workers.html", "Workers", "Workers"),
}
NAVIGATION = [(name, entry) for name, (_, _, entry) in PAGES.items() if entry]

# The operator's token lives in sessionStorage, so no script but ours may run on these pages:
# scripts, styles and connections from this origin only, no inline script, no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")


@bp.after_request
def security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _render(page, title, **values):
    config = current_app.config
    return render_template(f"console/{page}", title=title, navigation=NAVIGATION,
                           rest_base=config["REST_BASE_PATH"], auth_enabled=config["AUTH_ENABLED"], **values)


@bp.get("/")
def index():
    return redirect(url_for("console.page", name="failed-jobs"))


@bp.get("/<name>")
def page(name):
    if name not in PAGES:
        abort(404)
    template, title, _ = PAGES[name]
    return _render(template, title, current=name)


@bp.get("/jobs/<job_id>")
def job(job_id):
    return _render("job.html", "Job", current="failed-jobs", job_id=job_id)


@bp.get("/batches/<batch_id>")
def batch(batch_id):
    return _render("batch.html", "Batch", current="batches", batch_id=batch_id)
