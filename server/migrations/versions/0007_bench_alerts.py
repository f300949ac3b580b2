"""bench alerts: each scan's clock (claimed time, skew, flag, synchronised, boot id, monotonic)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("claimed_at", sa.DateTime(timezone=True)),
    ("clock_skew_s", sa.Float()),
    ("clock_flag", sa.String(length=16)),
    ("clock_synced", sa.Boolean()),
    ("boot_id", sa.String(length=64)),
    ("mono_s", sa.Float()),
)


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)
