"""Executor worker processes and their heartbeats (no Camunda counterpart).

Each process that executes jobs registers a row and rewrites ``heartbeat_at`` every
``JOB_HEARTBEAT_INTERVAL_SECONDS``; a job's ``lock_owner`` is the ``id`` of the worker holding
it. A row whose heartbeat is older than ``JOB_DEAD_WORKER_SECONDS`` marks a dead worker whose jobs
any live worker may take over (app.services.executor.workers). The table is declared exactly as
migration 0006 creates it, which says why it has no index besides the primary key.
"""

from app.extensions import db


class Worker(db.Model):
    __tablename__ = "worker"

    # "<hostname>:<pid>:<nonce>": readable for operators (it is what the 409 of a locked job
    # names), unique even when a pid is reused.
    id = db.Column(db.String(255), primary_key=True)
    hostname = db.Column(db.String(255), nullable=False)
    pid = db.Column(db.Integer, nullable=False)
    started_at = db.Column(db.DateTime, nullable=False)
    heartbeat_at = db.Column(db.DateTime, nullable=False)
