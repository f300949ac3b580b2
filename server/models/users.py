"""The leads' console's tables: console users and their sign-in throttle, the bench clearing
state (an exception QR scanned, its resolution not yet), and the gate overrides admins record."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import CREATED, Base, DouyinId, EnumText
from shipgate.wire import Decision, Reason


class Role(enum.StrEnum):
    LEAD = "lead"  # 仓库主管: clears exceptions, reads everything
    ADMIN = "admin"  # IT / owner: also stations, operators, users, shops and gate overrides


class User(Base):
    """Someone who signs in to the console. `warehouse_id` None means every warehouse."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # werkzeug: "scrypt:…$salt$hash"
    role: Mapped[Role] = mapped_column(String(8), default=Role.LEAD)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Every console session carries the generation it signed in with; signing out, a new
    # password or disabling bumps it, which ends every session taken before.
    session_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(info=CREATED)
    last_login_at: Mapped[datetime | None]

    warehouse = relationship("Warehouse")

    @property
    def is_admin(self) -> bool:
        """Admins are never bound to a warehouse (server.console.accounts.check_binding); a bound
        row with the admin role, however it got there, gets no admin rights."""
        return self.role == Role.ADMIN and self.warehouse_id is None

    def __repr__(self) -> str:  # never show the hash
        return f"<User {self.name!r} {self.role}>"


class LoginThrottle(Base):
    """Failed sign-ins per key ("user:<name>" or "ip:<address>"), shared by every server process."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(info=CREATED)
    locked_until: Mapped[datetime | None]


class BenchPending(Base):
    """A lead scanned an exception's QR at this station and has not scanned a resolution yet."""

    __tablename__ = "bench_pending"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    operator_badge: Mapped[str] = mapped_column(String(48))
    exception_id: Mapped[int] = mapped_column(ForeignKey("exceptions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(info=CREATED)
    expires_at: Mapped[datetime]


class GateOverride(Base):
    """An admin released an order the gate still stops. It holds only while the order's gate
    entry stays at `gate_version`: any later change from Douyin ends it."""

    __tablename__ = "gate_overrides"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(DouyinId, index=True)
    exception_id: Mapped[int | None] = mapped_column(ForeignKey("exceptions.id", ondelete="SET NULL"))
    gate_version: Mapped[int]
    decision: Mapped[Decision] = mapped_column(EnumText(Decision, 8))  # what the gate said when overridden
    reason: Mapped[Reason] = mapped_column(EnumText(Reason, 32))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(info=CREATED)
