"""Idempotency keys of batch-creating requests (no Camunda counterpart, A20).

One row per (caller, ``Idempotency-Key``): the hash of the request that used the key first and
the batch it created. The row is inserted in the transaction that creates the batch, before the
batch's first write, so two concurrent requests with one key create one batch: the second waits
on the primary key and then finds the first one's row. Rows older than
``IDEMPOTENCY_TTL_HOURS`` are deleted lazily (app.services.batches.idempotency), by create time.
"""

from app.extensions import db


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_key"

    # The authenticated user's id, "" when authentication is off: one caller's key never
    # answers another's request.
    user_id = db.Column(db.String(255), primary_key=True)
    key = db.Column(db.String(255), primary_key=True)
    request_hash = db.Column(db.String(64), nullable=False)
    batch_id = db.Column(db.String(64), nullable=False)
    create_time = db.Column(db.DateTime, nullable=False)

    __table_args__ = (
        # The expiry deletes by age.
        db.Index("ix_idempotency_key_create_time", create_time),
    )
