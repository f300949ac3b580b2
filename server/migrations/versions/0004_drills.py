"""drills: printed drill codes and each station's drill runs

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drills",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouses.id"], name=op.f("fk_drills_warehouse_id_warehouses")),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_drills")),
    )
    op.create_table(
        "drill_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scan_id", sa.String(length=64), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name=op.f("fk_drill_runs_station_id_stations")),
        sa.ForeignKeyConstraint(["token"], ["drills.token"], name=op.f("fk_drill_runs_token_drills")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_runs")),
    )
    op.create_index("ix_drill_runs_station_at", "drill_runs", ["station_id", "scanned_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_drill_runs_station_at", table_name="drill_runs")
    op.drop_table("drill_runs")
    op.drop_table("drills")
