"""Celery task modules; ``workers.celery_app`` is the only worker entry point."""
