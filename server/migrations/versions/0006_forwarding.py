"""forwarding: whether each PASS was typed into the packing PC (the inline gate)

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forward_state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("forward_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("forward_problem", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_column("forward_problem")
        batch_op.drop_column("forward_at")
        batch_op.drop_column("forward_state")
