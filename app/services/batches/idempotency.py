"""``Idempotency-Key`` on the batch-creating requests (A20).

The same key with the same request within ``IDEMPOTENCY_TTL_HOURS`` answers the batch the first
request created and creates nothing; the same key with another request is a 422. The key's row
(app.models.idempotency) is inserted in the batch's own transaction, before the batch's first
write (``create_batch(before_write=...)``): a request that fails writes no key, and of two
concurrent requests with one key the second waits on the primary key until the first commits,
then fails to insert and answers the first one's batch. Expired rows are deleted lazily, by the
next request that brings a key.
"""

import hashlib
import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.core.dates import utcnow
from app.core.errors import ApiError
from app.extensions import db
from app.models.tables import historic_batch_table, idempotency_key_table
from app.services.batches.engine import create_batch, get_batch_row

MAX_KEY_LENGTH = 255


class IdempotencyConflict(ApiError):
    """The key was used for another request: 422, Camunda's error JSON."""

    status = 422
    type = "InvalidRequestException"


def request_hash(route, body):
    """A stable hash of the request: its route and its JSON body with sorted keys."""
    canonical = json.dumps([route, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _ttl():
    return timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])


def _expire(cutoff):
    """Delete the keys older than the TTL (own transaction: a read of the index by age)."""
    db.session.execute(delete(idempotency_key_table).where(idempotency_key_table.c.create_time < cutoff))
    db.session.commit()


def _find(user_id, key, cutoff):
    k = idempotency_key_table.c
    return db.session.execute(select(k.request_hash, k.batch_id, k.create_time).where(
        k.user_id == user_id, k.key == key, k.create_time >= cutoff)).first()


def _batch_of(row):
    """The batch the key created: the runtime row, or once it completed its history as a batch."""
    batch = get_batch_row(row.batch_id)
    if batch is not None:
        return batch
    historic = db.session.execute(
        select(historic_batch_table).where(historic_batch_table.c.id == row.batch_id)).mappings().first()
    if historic is None:
        return None
    # A completed batch had created all its jobs; its history keeps no suspension state.
    return {**historic, "jobs_created": historic["total_jobs"], "suspended": False}


def _replay(row, key, fingerprint):
    if row.request_hash != fingerprint:
        hours = current_app.config["IDEMPOTENCY_TTL_HOURS"]
        raise IdempotencyConflict(
            f"Idempotency-Key '{key}' was already used for a different request within the last {hours:g} "
            f"hours (batch {row.batch_id}); send a new key with a new request")
    batch = _batch_of(row)
    db.session.rollback()
    if batch is None:
        raise IdempotencyConflict(
            f"Idempotency-Key '{key}' was already used and its batch {row.batch_id} has been deleted; "
            "send a new key to create a new batch")
    return batch, False


def create_batch_once(type_name, request, key, fingerprint, authentication=None):
    """``create_batch`` guarded by ``key`` (per user): returns ``(batch row, created)``."""
    owner = authentication.user_id if authentication is not None else ""
    now = utcnow()
    cutoff = now - _ttl()
    _expire(cutoff)
    row = _find(owner, key, cutoff)
    if row is not None:
        return _replay(row, key, fingerprint)

    def claim(batch_id):
        db.session.execute(insert(idempotency_key_table).values(
            user_id=owner, key=key, request_hash=fingerprint, batch_id=batch_id, create_time=now))

    try:
        return create_batch(type_name, request, authentication, before_write=claim), True
    except IntegrityError:
        # A concurrent request with this key committed first (create_batch rolled back).
        row = _find(owner, key, cutoff)
        if row is None:
            raise
        return _replay(row, key, fingerprint)
