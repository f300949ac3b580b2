"""Console accounts: hashed passwords, signing in (throttled), roles and disabling.

Every change is written to the audit log in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from server.console import passwords, throttle
from server.console.errors import FieldError
from server.models import AuditLog, Warehouse
from server.models.users import Role, User

PASSWORD_METHOD = "scrypt"  # werkzeug's default: scrypt with a random salt per password


class AccountError(FieldError):
    """A refused change to an account."""


@dataclass(frozen=True)
class SignIn:
    user: User | None
    error: str | None = None


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so a wrong name costs as long as a wrong password."""
    return generate_password_hash("shipgate-no-such-user", method=PASSWORD_METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash, kept in the session cookie: a new password ends
    every session signed in with the old one."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def check_password_rules(password: str, name: str = "", field: str = "password") -> None:
    """Refuse a weak password with the reason (server.console.passwords holds the rules)."""
    reason = passwords.problem(password, (name,) if name else ())
    if reason is not None:
        raise AccountError(field, reason)


def end_sessions(user: User) -> None:
    """End every console session of `user` (they carry the generation they signed in with)."""
    user.session_generation = (user.session_generation or 0) + 1


def user_named(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def warehouse_named(session: Session, name: str) -> Warehouse | None:
    return session.scalar(select(Warehouse).where(Warehouse.name == name))


def check_binding(role: Role, warehouse_id: int | None) -> None:
    """Admins are never bound to a warehouse: the admin area (shops, stations, users) spans every
    warehouse, so a "bound admin" could make an unbound one and reach everything."""
    if role == Role.ADMIN and warehouse_id is not None:
        raise AccountError("warehouse_id", "管理员管理所有仓库，不能绑定仓库；只管一个仓库的请设为主管")


def create_user(
    session: Session, name: str, password: str, role: Role, warehouse_id: int | None, *, actor: str
) -> User:
    if user_named(session, name) is not None:
        raise AccountError("name", "该用户名已存在")
    check_binding(role, warehouse_id)
    check_password_rules(password, name)
    user = User(name=name, password_hash=hash_password(password), role=role, warehouse_id=warehouse_id)
    session.add(user)
    session.flush()
    session.add(
        AuditLog(
            actor=actor,
            action="user.add",
            target=f"user:{name}",
            detail={"role": str(role), "warehouse_id": warehouse_id},
        )
    )
    return user


def authenticate(session: Session, name: str, password: str, address: str | None, now: datetime) -> SignIn:
    """Check a sign-in. The attempt is counted (and committed) before the password is looked at;
    locked keys are refused unchecked."""
    keys = throttle.keys_for(name, address)
    until = throttle.reserve(session, keys, now)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() + 59) // 60)
        return SignIn(None, f"登录失败次数过多，请 {minutes} 分钟后再试")
    user = user_named(session, name)
    good = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not good or not user.active:
        locked = throttle.record_failure(session, keys, now)
        target = f"user:{name[:58]}"
        session.add(AuditLog(actor=f"ip:{address}", action="auth.login_failed", target=target))
        if locked is not None:
            session.add(AuditLog(actor=f"ip:{address}", action="auth.locked", target=target))
            return SignIn(None, "登录失败次数过多，请 5 分钟后再试")
        return SignIn(None, "用户名或密码错误，或账号已停用")
    throttle.record_success(session, keys)
    user.last_login_at = now
    session.add(AuditLog(actor=f"user:{user.name}", action="auth.login", detail={"ip": address}))
    return SignIn(user)


def _other_active_admins(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )


def set_role(session: Session, user: User, role: Role, *, actor: str) -> None:
    if user.role == role:
        return
    if user.role == Role.ADMIN and _other_active_admins(session, user) == 0:
        raise AccountError("role", "不能取消最后一个管理员")
    try:
        check_binding(role, user.warehouse_id)
    except AccountError as exc:
        raise AccountError("role", exc.message) from exc
    session.add(
        AuditLog(
            actor=actor,
            action="user.role",
            target=f"user:{user.name}",
            detail={"from": user.role, "to": role},
        )
    )
    user.role = role


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    if user.active == active:
        return
    if not active and actor == f"user:{user.name}":
        raise AccountError("active", "不能停用自己的账号")
    if not active and user.role == Role.ADMIN and _other_active_admins(session, user) == 0:
        raise AccountError("active", "不能停用最后一个管理员")
    user.active = active
    end_sessions(user)
    action = "user.enable" if active else "user.disable"
    session.add(AuditLog(actor=actor, action=action, target=f"user:{user.name}"))


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    check_password_rules(password, user.name)
    user.password_hash = hash_password(password)
    end_sessions(user)
    session.add(AuditLog(actor=actor, action="user.password", target=f"user:{user.name}"))
