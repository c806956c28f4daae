"""Incidents (Camunda's ACT_RU_INCIDENT): a ``failedJob`` incident exists while a job has 0 retries."""

from app.extensions import db
from app.models.job import new_id


class Incident(db.Model):
    __tablename__ = "incident"

    id = db.Column(db.String(64), primary_key=True, default=new_id)
    incident_type = db.Column(db.String(255), nullable=False)
    incident_message = db.Column(db.String(4000))
    incident_timestamp = db.Column(db.DateTime, nullable=False)
    # The failed job's id, as Camunda stores it in CONFIGURATION_.
    configuration = db.Column(db.String(255))
    job_definition_id = db.Column(db.String(64))
    process_instance_id = db.Column(db.String(64))
    execution_id = db.Column(db.String(64))
    process_definition_id = db.Column(db.String(64))
    activity_id = db.Column(db.String(255))
    failed_activity_id = db.Column(db.String(255))
    tenant_id = db.Column(db.String(64))

    __table_args__ = (
        # Resolving and creating incidents looks them up by the job id they carry.
        db.Index("ix_incident_configuration", configuration, incident_type),
        # The incident query filters by jobDefinitionIdIn and by processInstanceId.
        db.Index("ix_incident_job_definition_id", job_definition_id),
        db.Index("ix_incident_process_instance_id", process_instance_id),
    )
