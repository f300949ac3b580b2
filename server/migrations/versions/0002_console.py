"""console: users, sign-in throttle, bench clearing state, gate overrides

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_users_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('failures', ID, nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    op.create_table('bench_pending',
    sa.Column('station_id', ID, nullable=False),
    sa.Column('operator_badge', sa.String(length=48), nullable=False),
    sa.Column('exception_id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exception_id'], ['exceptions.id'], name=op.f('fk_bench_pending_exception_id_exceptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_bench_pending_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', name=op.f('pk_bench_pending'))
    )
    op.create_table('gate_overrides',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=20), nullable=False),
    sa.Column('exception_id', ID, nullable=True),
    sa.Column('gate_version', ID, nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exception_id'], ['exceptions.id'], name=op.f('fk_gate_overrides_exception_id_exceptions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_overrides'))
    )
    with op.batch_alter_table('gate_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gate_overrides_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gate_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gate_overrides_order_id'))

    op.drop_table('gate_overrides')
    op.drop_table('bench_pending')
    op.drop_table('login_throttle')
    op.drop_table('users')
