"""Clearing exceptions: gate business, once, for the console and for a lead at the bench (the
station API calls it through `Gate(bench_codes=handle_bench_code)`).

A lead clears an open exception with one of four resolutions. `refund_closed_release` says the
parcel may ship after all, so it is allowed only while the order's gate entry is PASS (Douyin
says the refund closed). Releasing an order the gate still stops is an override: admins only,
from the console only, with a reason, and loudly audited.

What an override may release is decided here, once (`override_refusal`), for the console
(which refuses the rest and writes nothing) and the gate (which honours the override while the
order's gate entry stays at the version it was made on): an order Douyin's data stops for a
refund or a cancellation (BLOCK refunded / cancelled, HOLD refund_pending / partial_refund), the
cases where the platform can lag behind what the shop knows. Never an unpaid order (Douyin
releases it itself once the buyer pays), and never what the gate stops for its own reasons (a
drill, an unknown order, an invalid code, a stale replica): there is no order verdict to release.

At the bench (`handle_bench_code`) a lead signed in with their badge scans the QR on a slip
(SG-EX-<scan_id>), then a line of the printed resolution sheet (SG-RS-<resolution>). The
"QR scanned, awaiting resolution" state lives in `bench_pending`, keyed by station, so any
server process can take the second scan. Nothing here commits; the caller does.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server import clock
from server.fastsql import Prepared
from server.models import AuditLog, ExceptionStatus, GateEntry, Operator, ScanException
from server.models.users import BenchPending, GateOverride
from server.stations import StationRef
from shipgate.codes import Code, CodeKind
from shipgate.wire import Decision, Reason

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


OVERRIDABLE = frozenset({Reason.REFUNDED, Reason.CANCELLED, Reason.REFUND_PENDING, Reason.PARTIAL_REFUND})


def override_refusal(decision: Decision, reason: Reason) -> str | None:
    """Why an admin may not release an order the gate says this about (zh-CN), or None when
    they may. The console and the gate both ask this; see the module's docstring."""
    if decision is Decision.PASS:
        return "订单已可发货，请选择“退款已关闭可发货”清除"
    if reason is Reason.UNPAID:
        return "订单未付款，不能强制放行：买家付款后抖店会自动放行"
    if reason not in OVERRIDABLE:
        return "该拦截原因不能强制放行"
    return None


@dataclass(frozen=True)
class BenchAnswer:
    """What the gate answers to a lead's code scanned at a bench."""

    decision: Decision  # PASS when an exception was cleared (or a badge signed in), HOLD otherwise
    reason: Reason
    message: str  # zh-CN, for the bench
    exception_id: int | None = None
    order_id: str | None = None


class ClearingError(ValueError):
    """A refused clearing: `message` (zh-CN) belongs beside `field`; `gone` when the exception is
    no longer open. Nothing was written."""

    def __init__(self, field: str, message: str, *, gone: bool = False):
        super().__init__(message)
        self.field, self.message, self.gone = field, message, gone


def gate_decision(session: Session, order_id: str | None) -> str | None:
    if order_id is None:
        return None
    return session.scalar(select(GateEntry.decision).where(GateEntry.order_id == order_id))


def allowed_resolutions(session: Session, exception: ScanException) -> dict[Resolution, str | None]:
    """Each lead resolution and why it is not allowed now (None when it is)."""
    release_ok = gate_decision(session, exception.order_id) == Decision.PASS
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
    _close(session, exception, resolution, note, actor, now or clock.of(session).now())
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
    refusal = override_refusal(Decision(entry.decision), Reason(entry.reason))
    if refusal is not None:
        raise ClearingError("order", refusal)
    now = now or clock.of(session).now()
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

    def __call__(self, cursor, entry: dict) -> bool:
        """Whether an admin's override releases this gate entry (a RESOLVE row: order_id,
        decision, reason, version): only what `override_refusal` lets an admin release, and only
        while the entry is at the version the override was made at."""
        if override_refusal(Decision(entry["decision"]), Reason(entry["reason"])) is not None:
            return False
        params = {"order_id": entry["order_id"], "version": entry["version"]}
        return self._first.first(cursor, params) is not None


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
) -> BenchAnswer:
    """Answer a badge, exception QR or resolution scanned at a bench.

    PASS when an exception was cleared (or a valid badge signed in), HOLD otherwise."""
    now = now or clock.of(session).now()
    session.execute(delete(BenchPending).where(BenchPending.expires_at <= now))
    if code.kind is CodeKind.BADGE:
        return _badge(session, station, code.value)
    if code.kind not in (CodeKind.EXCEPTION, CodeKind.RESOLUTION):
        return _answer(Decision.HOLD, Reason.INVALID_CODE, "请扫描异常单二维码或处理方式")
    lead = _lead_here(session, station, operator_badge)
    if lead is None:
        message = "请先扫描主管工牌" if not operator_badge else "只有本仓主管可以清除异常"
        return _answer(Decision.HOLD, Reason.NOT_LEAD, message)
    if code.kind is CodeKind.EXCEPTION:
        return _take_exception(session, station, lead, code.value, now)
    return _resolve(session, station, lead, code.value, now)


def _answer(
    decision: Decision, reason: Reason, message: str, exception: ScanException | None = None
) -> BenchAnswer:
    return BenchAnswer(
        decision,
        reason,
        message,
        exception.id if exception else None,
        exception.order_id if exception else None,
    )


def _badge(session: Session, station: StationRef, badge: str) -> BenchAnswer:
    """A badge of this warehouse signs in; any other badge gets one answer that names nobody
    (whether it is unknown, disabled or another warehouse's), so trying badges tells nothing."""
    operator = session.scalar(select(Operator).where(Operator.badge == badge))
    if operator is None or not operator.active or operator.warehouse_id not in (None, station.warehouse_id):
        return _answer(Decision.HOLD, Reason.UNKNOWN_BADGE, "工牌无效或已停用")
    session.execute(
        delete(BenchPending).where(
            BenchPending.station_id == station.id, BenchPending.operator_badge != badge
        )
    )
    return _answer(Decision.PASS, Reason.SIGNED_IN, "已登录")


def _lead_here(session: Session, station: StationRef, badge: str | None) -> Operator | None:
    if not badge:
        return None
    operator = session.scalar(select(Operator).where(Operator.badge == badge))
    if operator is None or not operator.active or not operator.is_lead:
        return None
    if operator.warehouse_id not in (None, station.warehouse_id):
        return None
    return operator


def _take_exception(session: Session, station: StationRef, lead: Operator, scan_id: str, now) -> BenchAnswer:
    found = session.scalars(
        select(ScanException)
        .where(ScanException.scan_id == scan_id, ScanException.warehouse_id == station.warehouse_id)
        .order_by(ScanException.id.desc())
    ).all()
    exception = next((e for e in found if e.status == ExceptionStatus.OPEN), None)
    if exception is None:
        message = "该异常已清除" if found else "未找到该异常单"
        return _answer(Decision.HOLD, Reason.NO_EXCEPTION, message, found[0] if found else None)
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
    return _answer(Decision.HOLD, Reason.AWAITING_RESOLUTION, "请扫描处理方式", exception)


def _resolve(session: Session, station: StationRef, lead: Operator, value: str, now) -> BenchAnswer:
    pending = session.get(BenchPending, station.id)
    if pending is None or pending.operator_badge != lead.badge:
        return _answer(Decision.HOLD, Reason.NO_PENDING, "请先扫描异常单上的二维码")
    exception = session.get(ScanException, pending.exception_id)
    if value == Resolution.OVERRIDE_RELEASE:
        return _answer(Decision.HOLD, Reason.INVALID_CODE, "强制放行只能由管理员在后台操作", exception)
    if value not in LEAD_RESOLUTIONS:
        return _answer(Decision.HOLD, Reason.INVALID_CODE, "无法识别的处理方式", exception)
    try:
        clear(
            session, exception.id, value, actor=f"operator:{lead.badge}", via=f"bench:{station.name}", now=now
        )
    except ClearingError as exc:
        if exc.gone:
            session.delete(pending)
            return _answer(Decision.HOLD, Reason.NO_EXCEPTION, "该异常已清除", exception)
        return _answer(Decision.HOLD, Reason.RESOLUTION_REFUSED, exc.message, exception)
    session.delete(pending)
    label = RESOLUTION_LABELS[Resolution(value)]
    return _answer(Decision.PASS, Reason.EXCEPTION_CLEARED, f"已清除异常：{label}", exception)
