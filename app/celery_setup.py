"""The one Celery integration point: ``celery_init_app`` (Flask's documented pattern).

The web process, the CLI and the workers all build their Celery app here, from the Flask
config. The web process never imports task modules: it sends tasks by name through the
:class:`CeleryDispatcher` kept in ``app.extensions["dispatcher"]`` (tests replace it with a
recorder that checks every argument is JSON).
"""

import os

from celery import Celery, Task
from flask import has_app_context


class CeleryDispatcher:
    """Sends tasks through Celery to the configured queue."""

    def __init__(self, celery_app, queue):
        self.celery = celery_app
        self.queue = queue

    def send(self, name, args=(), countdown=None, expires=None):
        self.celery.send_task(name, args=list(args), queue=self.queue, countdown=countdown,
                              expires=expires, retry=False)


def celery_init_app(flask_app):
    """Create the Celery app bound to ``flask_app`` (Flask's documented pattern).

    Each task call runs inside an app context, pushed only when none is active: a second
    context would hand the task a second SQLAlchemy session (Superset's pitfall).
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            if has_app_context():
                return self.run(*args, **kwargs)
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    config = flask_app.config
    celery_app = Celery(flask_app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=config["BROKER_URL"],
        task_default_queue=config["JOB_QUEUE"],
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Acknowledge on receipt: a message is only a wake-up hint (the work is in the
        # database), and a legacy execute message that no longer holds its job does nothing.
        task_acks_late=False,
        worker_prefetch_multiplier=config["WORKER_PREFETCH_MULTIPLIER"],
        broker_connection_retry_on_startup=True,
        # Reconnect to a broker that went away for as long as it takes (Celery's default gives
        # up after 100 attempts and stops the worker); the runtime keeps running jobs from the
        # database meanwhile.
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        task_soft_time_limit=config["TASK_SOFT_TIME_LIMIT"],
        task_time_limit=config["TASK_TIME_LIMIT"],
    )
    if config["BROKER_URL"].startswith("filesystem://"):
        # The embedded broker: messages are files, so no broker server is needed.
        folder = config["BROKER_FOLDER"]
        os.makedirs(folder, exist_ok=True)
        # kombu keeps its exchange tables in "control_folder", relative to the working
        # directory unless given: keep it next to the messages, not in the checkout.
        control_folder = config.get("BROKER_CONTROL_FOLDER") or f"{folder.rstrip(os.sep)}-control"
        os.makedirs(control_folder, exist_ok=True)
        celery_app.conf.broker_transport_options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": control_folder,
            "polling_interval": 0.1,
        }
    celery_app.set_default()
    flask_app.extensions["celery"] = celery_app
    flask_app.extensions["dispatcher"] = CeleryDispatcher(celery_app, config["JOB_QUEUE"])
    return celery_app
