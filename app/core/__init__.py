"""The bottom layer: Camunda's vocabulary that every other layer needs.

Error classes, the date format on the wire, the "can the database store this text" check, and
the names of job, handler, batch, incident and task types. Nothing here imports Flask,
SQLAlchemy, marshmallow or any other part of the service (an import-linter contract in
setup.cfg keeps it so), which is what lets ``schemas/`` and the services both build on it
without importing each other.
"""
