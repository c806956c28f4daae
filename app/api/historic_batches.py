"""The historic batches resource."""

from flask import Blueprint

bp = Blueprint("historic_batches", __name__)
