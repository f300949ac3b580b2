"""incidents: parcels shipped after a refund, their steps, contact templates, group robots and their outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('alert_settings',
    sa.Column('id', ID, nullable=False),
    sa.Column('public_base_url', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_settings'))
    )
    op.create_table('contact_templates',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_contact_templates'))
    )
    op.create_table('robots',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_robots_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robots')),
    sa.UniqueConstraint('name', name=op.f('uq_robots_name'))
    )
    op.create_table('incidents',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=20), nullable=False),
    sa.Column('shop_id', sa.String(length=20), nullable=False),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('trigger', sa.String(length=24), nullable=False),
    sa.Column('aftersale_id', sa.String(length=20), nullable=True),
    sa.Column('refund_amount', ID, nullable=True),
    sa.Column('refund_applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refund_succeeded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('goods', sa.JSON(), nullable=False),
    sa.Column('tracking_no', sa.String(length=40), nullable=True),
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('pass_scan_pk', ID, nullable=True),
    sa.Column('passed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('station_id', ID, nullable=True),
    sa.Column('packer', sa.String(length=48), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('race_window_s', ID, nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('inspection', sa.String(length=16), nullable=True),
    sa.Column('cause', sa.String(length=24), nullable=True),
    sa.Column('cause_note', sa.String(length=500), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('goods_value', ID, nullable=False),
    sa.Column('return_freight', ID, nullable=False),
    sa.Column('compensation', ID, nullable=False),
    sa.Column('coupon', ID, nullable=False),
    sa.Column('claim_recovered', ID, nullable=False),
    sa.Column('written_off', ID, nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.order_id'], name=op.f('fk_incidents_order_id_orders')),
    sa.ForeignKeyConstraint(['pass_scan_pk'], ['scans.id'], name=op.f('fk_incidents_pass_scan_pk_scans')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_incidents_station_id_stations')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_incidents_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('order_id', name=op.f('uq_incidents_order_id'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_state_detected', ['state', 'detected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('incident_events',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('incident_id', ID, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_events_incident_id'), ['incident_id'], unique=False)

    op.create_table('robot_outbox',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('robot_id', ID, nullable=False),
    sa.Column('incident_id', ID, nullable=True),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('link_path', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', ID, nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_robot_outbox_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['robot_id'], ['robots.id'], name=op.f('fk_robot_outbox_robot_id_robots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_outbox'))
    )
    with op.batch_alter_table('robot_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_robot_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_robot_outbox_robot_id'), ['robot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('robot_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robot_outbox_robot_id'))
        batch_op.drop_index('ix_robot_outbox_due')

    op.drop_table('robot_outbox')
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_events_incident_id'))

    op.drop_table('incident_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_warehouse_id'))
        batch_op.drop_index('ix_incidents_state_detected')

    op.drop_table('incidents')
    op.drop_table('robots')
    op.drop_table('contact_templates')
    op.drop_table('alert_settings')
