"""A batch slice's job ids stored uncompressed on PostgreSQL (``STORAGE EXTERNAL``).

The ids of a slice (1,000 hex ids, about 37 kB) go to TOAST either way; by default they are
compressed with pglz first, which hex text hardly repays: at 1M jobs the 401 slices of a batch
over 400,000 failed jobs took 420 ms to write, 90 ms uncompressed, and every execution job
decompressed its slice again to read it. Applies to rows written from now on; SQLite keeps
its JSON text as it is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE batch_slice ALTER COLUMN job_ids SET STORAGE EXTERNAL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE batch_slice ALTER COLUMN job_ids SET STORAGE EXTENDED")
