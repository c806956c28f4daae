"""What the batch-creating views share: the ``Idempotency-Key`` header (A20)."""

from flask import request

from app.api.auth import current_authentication
from app.api.common import json_body
from app.core.errors import InvalidRequest
from app.core.text import is_storable
from app.services.batches.engine import create_batch
from app.services.batches.idempotency import MAX_KEY_LENGTH, create_batch_once, request_hash

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key():
    """The request's ``Idempotency-Key`` header, or None; an unusable one is a 400."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not is_storable(key):
        raise InvalidRequest(f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_KEY_LENGTH} characters of text")
    return key


def create_requested_batch(type_name, loaded):
    """Create the batch of a loaded request; with an ``Idempotency-Key``, at most once per key
    (the same key with the same body answers the first request's batch)."""
    key = idempotency_key()
    authentication = current_authentication()
    if key is None:
        return create_batch(type_name, loaded, authentication)
    batch, _created = create_batch_once(type_name, loaded, key, request_hash(type_name, json_body()), authentication)
    return batch
