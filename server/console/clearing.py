"""Clearing exceptions: the rules, once, for the console and for a lead at the bench.

A lead clears an open exception with one of four resolutions. `refund_closed_release` says the
parcel may ship after all, so it is allowed only while the order's gate entry is PASS (Douyin
says the refund closed). Releasing an order the gate still stops is an override: admins only,
from the console only, with a reason, and loudly audited.

At the bench (`handle_bench_code`) a lead signed in with their badge scans the QR on a slip
(SG-EX-<scan_id>), then a line of the printed resolution sheet (SG-RS-<resolution>). The
"QR scanned, awaiting resolution" state lives in `bench_pending`, keyed by station, so any
server process can take the second scan. Nothing here commits; the caller does.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.console.errors import FieldError
from server.fastsql import Prepared
from server.models import AuditLog, ExceptionStatus, GateEntry, Operator, ScanException, utcnow
from server.models.users import BenchPending, GateOverride
from server.stations import StationRef
from shipgate.codes import Code, CodeKind

log = logging.getLogger(__name__)

PENDING_FOR = timedelta(minutes=2)
MIN_OVERRIDE_NOTE = 4
MAX_NOTE = 500


class Resolution(enum.StrEnum):
    MOVED_TO_REFUND_SHELF = "moved_to_refund_shelf"
    PARTIAL_ITEM_REMOVED = "partial_item_removed"
    REFUND_CLOSED_RELEASE = "refund_closed_release"
    MISSCAN = "misscan"
    OVERRIDE_RELEASE = "override_release"  # admins, console only


RESOLUTION_LABELS = {
    Resolution.MOVED_TO_REFUND_SHELF: "放入退款区",
    Resolution.PARTIAL_ITEM_REMOVED: "已取出退款商品",
    Resolution.REFUND_CLOSED_RELEASE: "退款已关闭可发货",
    Resolution.MISSCAN: "误扫",
    Resolution.OVERRIDE_RELEASE: "强制放行（管理员）",
}
# What a lead may choose, in the console and on the printed sheet.
LEAD_RESOLUTIONS = (
    Resolution.MOVED_TO_REFUND_SHELF,
    Resolution.PARTIAL_ITEM_REMOVED,
    Resolution.REFUND_CLOSED_RELEASE,
    Resolution.MISSCAN,
)


class BenchReason(enum.StrEnum):
    """Machine reasons of the bench answers (proposed additions to the wire's reasons)."""

    CLEAR = "clear"  # PASS: the exception is cleared
    SIGNED_IN = "signed_in"  # PASS: a known, active badge
    AWAITING_RESOLUTION = "awaiting_resolution"  # the QR was taken; scan a resolution next
    NOT_LEAD = "not_lead"  # nobody, or no lead of this warehouse, is signed in
    UNKNOWN_BADGE = "unknown_badge"
    NO_EXCEPTION = "no_exception"  # no such open exception in this warehouse
    NO_PENDING = "no_pending"  # a resolution without a QR scanned first (or it expired)
    RESOLUTION_REFUSED = "resolution_refused"  # e.g. "refund closed" while the gate still stops it
    INVALID_CODE = "invalid_code"


class ClearingError(FieldError):
    """A refused clearing; `gone` when the exception is no longer open."""

    def __init__(self, field: str, message: str, *, gone: bool = False):
        super().__init__(field, message)
        self.gone = gone


def gate_decision(session: Session, order_id: str | None) -> str | None:
    if order_id is None:
        return None
    return session.scalar(select(GateEntry.decision).where(GateEntry.order_id == order_id))


def allowed_resolutions(session: Session, exception: ScanException) -> dict[Resolution, str | None]:
    """Each lead resolution and why it is not allowed now (None when it is)."""
    release_ok = gate_decision(session, exception.order_id) == "PASS"
    why = None if release_ok else "订单当前仍被拦截或暂停"
    return {r: (why if r is Resolution.REFUND_CLOSED_RELEASE else None) for r in LEAD_RESOLUTIONS}


def clear(
    session: Session,
    exception_id: int,
    resolution: str,
    note: str = "",
    *,
    actor: str,
    via: str,
    now: datetime | None = None,
) -> ScanException:
    """Clear an open exception with a lead resolution, audited. Raises ClearingError."""
    exception = _open_exception(session, exception_id)
    if resolution not in LEAD_RESOLUTIONS:
        raise ClearingError("resolution", "请选择处理方式")
    if len(note) > MAX_NOTE:
        raise ClearingError("note", f"备注不能超过 {MAX_NOTE} 字")
    reason = allowed_resolutions(session, exception)[Resolution(resolution)]
    if reason is not None:
        raise ClearingError("resolution", f"{reason}，不能选择“退款已关闭可发货”")
    _close(session, exception, resolution, note, actor, now or utcnow())
    session.add(
        AuditLog(
            actor=actor,
            action="exception.clear",
            target=f"exception:{exception.id}",
            detail=_detail(exception, resolution=resolution, note=note, via=via),
        )
    )
    return exception


def override(
    session: Session, exception_id: int, note: str, *, actor: str, now: datetime | None = None
) -> GateOverride:
    """Release an order the gate still stops (admins; the view checks the role). Raises ClearingError."""
    exception = _open_exception(session, exception_id)
    note = note.strip()
    if len(note) < MIN_OVERRIDE_NOTE:
        raise ClearingError("note", f"请写明强制放行的原因（至少 {MIN_OVERRIDE_NOTE} 个字）")
    if len(note) > MAX_NOTE:
        raise ClearingError("note", f"原因不能超过 {MAX_NOTE} 字")
    entry = session.get(GateEntry, exception.order_id) if exception.order_id else None
    if entry is None:
        raise ClearingError("order", "此异常没有对应的订单，无法放行")
    if entry.decision == "PASS":
        raise ClearingError("order", "订单已可发货，请选择“退款已关闭可发货”清除")
    now = now or utcnow()
    _close(session, exception, Resolution.OVERRIDE_RELEASE, note, actor, now)
    release = GateOverride(
        order_id=entry.order_id,
        exception_id=exception.id,
        gate_version=entry.version,
        decision=entry.decision,
        reason=entry.reason,
        actor=actor,
        note=note,
        created_at=now,
    )
    session.add(release)
    detail = _detail(exception, resolution=Resolution.OVERRIDE_RELEASE, note=note, via="console")
    detail.update(
        severity="critical",
        gate_decision=entry.decision,
        gate_reason=entry.reason,
        gate_version=entry.version,
    )
    session.add(
        AuditLog(actor=actor, action="gate.override", target=f"order:{entry.order_id}", detail=detail)
    )
    log.warning(
        "GATE OVERRIDE by %s: order %s released while the gate says %s %s (exception %s): %s",
        actor, entry.order_id, entry.decision, entry.reason, exception.id, note,
    )  # fmt: skip
    return release


def _holds(order_id, version) -> tuple:
    """An override holds while the order's gate entry is at the version it was made at."""
    return GateOverride.order_id == order_id, GateOverride.gate_version == version


def override_in_force(session: Session, order_id: str) -> GateOverride | None:
    """The override that still holds for an order: made at the gate version the order is at now."""
    version = session.scalar(select(GateEntry.version).where(GateEntry.order_id == order_id))
    if version is None:
        return None
    return session.scalar(
        select(GateOverride).where(*_holds(order_id, version)).order_by(GateOverride.id.desc())
    )


class OverrideCheck:
    """`override_in_force` for the scan path, which already holds the entry's version: one
    prepared read on the request's raw cursor instead of an ORM session and two queries."""

    def __init__(self, engine: Engine):
        statement = (
            select(GateOverride.id).where(*_holds(bindparam("order_id"), bindparam("version"))).limit(1)
        )
        self._first = Prepared(engine, statement)

    def __call__(self, cursor, order_id: str, version: int) -> bool:
        return self._first.first(cursor, {"order_id": order_id, "version": version}) is not None


def _open_exception(session: Session, exception_id: int) -> ScanException:
    exception = session.get(ScanException, exception_id)
    if exception is None or exception.status != ExceptionStatus.OPEN:
        raise ClearingError("resolution", "该异常已被清除或不存在", gone=True)
    return exception


def _close(session: Session, exception: ScanException, resolution: str, note: str, actor: str, now) -> None:
    """Close it only if still open (one UPDATE: two leads clearing at once cannot both win)."""
    result = session.execute(
        update(ScanException)
        .where(ScanException.id == exception.id, ScanException.status == ExceptionStatus.OPEN)
        .values(
            status=ExceptionStatus.CLEARED,
            cleared_at=now,
            cleared_by=actor[:64],
            resolution=str(resolution),
            note=note or None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ClearingError("resolution", "该异常已被其他人清除", gone=True)
    session.refresh(exception)


def _detail(exception: ScanException, **extra) -> dict:
    return {
        "order_id": exception.order_id,
        "scan_id": exception.scan_id,
        "decision": exception.decision,
        "reason": exception.reason,
        **{k: str(v) for k, v in extra.items()},
    }


# --- the bench -------------------------------------------------------------------------------


def handle_bench_code(
    session: Session,
    station: StationRef,
    operator_badge: str | None,
    code: Code,
    *,
    now: datetime | None = None,
) -> dict:
    """Answer a badge, exception QR or resolution scanned at a bench.

    Returns {"decision": "PASS"|"HOLD", "reason", "message" (zh-CN), "exception_id", "order_id"}:
    PASS when an exception was cleared (or a valid badge signed in), HOLD otherwise.
    """
    now = now or utcnow()
    session.execute(delete(BenchPending).where(BenchPending.expires_at <= now))
    if code.kind is CodeKind.BADGE:
        return _badge(session, station, code.value)
    if code.kind not in (CodeKind.EXCEPTION, CodeKind.RESOLUTION):
        return _answer("HOLD", BenchReason.INVALID_CODE, "请扫描异常单二维码或处理方式")
    lead = _lead_here(session, station, operator_badge)
    if lead is None:
        message = "请先扫描主管工牌" if not operator_badge else "只有本仓主管可以清除异常"
        return _answer("HOLD", BenchReason.NOT_LEAD, message)
    if code.kind is CodeKind.EXCEPTION:
        return _take_exception(session, station, lead, code.value, now)
    return _resolve(session, station, lead, code.value, now)


def _answer(decision: str, reason: BenchReason, message: str, exception: ScanException | None = None) -> dict:
    return {
        "decision": decision,
        "reason": reason.value,
        "message": message,
        "exception_id": exception.id if exception else None,
        "order_id": exception.order_id if exception else None,
    }


def _badge(session: Session, station: StationRef, badge: str) -> dict:
    operator = session.scalar(select(Operator).where(Operator.badge == badge))
    if operator is None or not operator.active:
        return _answer("HOLD", BenchReason.UNKNOWN_BADGE, "工牌无效或已停用")
    session.execute(
        delete(BenchPending).where(
            BenchPending.station_id == station.id, BenchPending.operator_badge != badge
        )
    )
    title = "（主管）" if operator.is_lead else ""
    return _answer("PASS", BenchReason.SIGNED_IN, f"已登录：{operator.name}{title}")


def _lead_here(session: Session, station: StationRef, badge: str | None) -> Operator | None:
    if not badge:
        return None
    operator = session.scalar(select(Operator).where(Operator.badge == badge))
    if operator is None or not operator.active or not operator.is_lead:
        return None
    if operator.warehouse_id not in (None, station.warehouse_id):
        return None
    return operator


def _take_exception(session: Session, station: StationRef, lead: Operator, scan_id: str, now) -> dict:
    found = session.scalars(
        select(ScanException)
        .where(ScanException.scan_id == scan_id, ScanException.warehouse_id == station.warehouse_id)
        .order_by(ScanException.id.desc())
    ).all()
    exception = next((e for e in found if e.status == ExceptionStatus.OPEN), None)
    if exception is None:
        message = "该异常已清除" if found else "未找到该异常单"
        return _answer("HOLD", BenchReason.NO_EXCEPTION, message, found[0] if found else None)
    session.execute(delete(BenchPending).where(BenchPending.station_id == station.id))
    session.add(
        BenchPending(
            station_id=station.id,
            operator_badge=lead.badge,
            exception_id=exception.id,
            created_at=now,
            expires_at=now + PENDING_FOR,
        )
    )
    session.flush()
    return _answer("HOLD", BenchReason.AWAITING_RESOLUTION, "请扫描处理方式", exception)


def _resolve(session: Session, station: StationRef, lead: Operator, value: str, now) -> dict:
    pending = session.get(BenchPending, station.id)
    if pending is None or pending.operator_badge != lead.badge:
        return _answer("HOLD", BenchReason.NO_PENDING, "请先扫描异常单上的二维码")
    exception = session.get(ScanException, pending.exception_id)
    if value == Resolution.OVERRIDE_RELEASE:
        return _answer("HOLD", BenchReason.INVALID_CODE, "强制放行只能由管理员在后台操作", exception)
    if value not in LEAD_RESOLUTIONS:
        return _answer("HOLD", BenchReason.INVALID_CODE, "无法识别的处理方式", exception)
    try:
        clear(
            session, exception.id, value, actor=f"operator:{lead.badge}", via=f"bench:{station.name}", now=now
        )
    except ClearingError as exc:
        if exc.gone:
            session.delete(pending)
            return _answer("HOLD", BenchReason.NO_EXCEPTION, "该异常已清除", exception)
        return _answer("HOLD", BenchReason.RESOLUTION_REFUSED, exc.message, exception)
    session.delete(pending)
    label = RESOLUTION_LABELS[Resolution(value)]
    return _answer("PASS", BenchReason.CLEAR, f"已清除异常：{label}", exception)
