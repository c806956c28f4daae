"""The job definitions resource."""

from flask import Blueprint

bp = Blueprint("job_definitions", __name__)
