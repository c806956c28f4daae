"""Camunda's user operation log (ACT_HI_OP_LOG): who changed what, one row per changed property.

One operation (one request) is one ``operation_id`` shared by its rows; an operation that
changes no property is one row with ``property`` NULL. Values are strings, as Camunda stores
them (dates as epoch milliseconds). The ids are time-ordered (spec A17), so that Camunda's
default order, by id, is the order the entries were written in.
"""

from app.extensions import db


class UserOperationLogEntry(db.Model):
    __tablename__ = "user_operation_log"
    __table_args__ = (
        db.Index("ix_user_operation_log_operation_id", "operation_id"),
        db.Index("ix_user_operation_log_timestamp", "timestamp"),
        db.Index("ix_user_operation_log_job_id", "job_id"),
        db.Index("ix_user_operation_log_batch_id", "batch_id"),
    )

    id = db.Column(db.String(64), primary_key=True)
    operation_id = db.Column(db.String(64), nullable=False)
    operation_type = db.Column(db.String(64), nullable=False)
    entity_type = db.Column(db.String(64), nullable=False)
    category = db.Column(db.String(64))
    user_id = db.Column(db.String(255))
    timestamp = db.Column(db.DateTime, nullable=False)
    job_id = db.Column(db.String(64))
    job_definition_id = db.Column(db.String(64))
    batch_id = db.Column(db.String(64))
    process_instance_id = db.Column(db.String(64))
    process_definition_id = db.Column(db.String(64))
    process_definition_key = db.Column(db.String(255))
    deployment_id = db.Column(db.String(64))
    tenant_id = db.Column(db.String(64))
    property = db.Column(db.String(64))
    org_value = db.Column(db.String(4000))
    new_value = db.Column(db.String(4000))
    annotation = db.Column(db.String(4000))
