"""secrets: shop app secrets, Douyin tokens and robot credentials encrypted at rest; console
session generations; admins never bound; the shops that signed each stored push

Revision ID: 0008
Revises: 0004

Needs the data key installed (server.secretbox.install, done by create_app and the CLI from
SHIPGATE_DATA_KEY / SHIPGATE_DATA_KEY_FILE / the instance key file) when there are rows to seal.
"""

import sqlalchemy as sa
from alembic import op

from server import secretbox

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEALED = {
    "shops": ("shop_id", ("app_secret", "auth_code", "access_token", "refresh_token")),
    "robots": ("id", ("webhook_url", "secret")),
}
OLD_TYPES = {
    ("shops", "app_secret"): sa.String(128),
    ("shops", "auth_code"): sa.String(128),
    ("shops", "access_token"): sa.String(256),
    ("shops", "refresh_token"): sa.String(256),
    ("robots", "webhook_url"): sa.String(500),
    ("robots", "secret"): sa.String(200),
}


def _rewrite(table: str, change) -> None:
    key, columns = SEALED[table]
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT {key}, {', '.join(columns)} FROM {table}")).all()
    for row in rows:
        values = {c: change(v) if v else v for c, v in zip(columns, row[1:], strict=True)}
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        conn.execute(
            sa.text(f"UPDATE {table} SET {assignments} WHERE {key} = :key"), {**values, "key": row[0]}
        )


def upgrade() -> None:
    for (table, column), old in OLD_TYPES.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=old, type_=sa.Text())
    for table in SEALED:
        _rewrite(table, lambda v: v if secretbox.is_sealed(v) else secretbox.seal(v))
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column(
                "session_generation",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=False,
                server_default="0",
            )
        )
    with op.batch_alter_table("webhook_inbox") as batch_op:
        batch_op.add_column(sa.Column("signed_by", sa.Text(), nullable=True))
    # Admins are never bound to a warehouse now: a bound admin becomes a lead of that warehouse
    # (fail closed; make them an unbound admin again on purpose if that was meant).
    op.execute("UPDATE users SET role = 'lead' WHERE role = 'admin' AND warehouse_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch_op:
        batch_op.drop_column("signed_by")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_generation")
    for table in SEALED:
        _rewrite(table, secretbox.unseal)
    for (table, column), old in OLD_TYPES.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=old)
