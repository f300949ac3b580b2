"""The station's decisions, as data. Pure: no I/O, no clock, no globals.

The server decides when it can; the station decides on its own only when it must: offline from
its replica (fail closed when the replica is too old), for codes that are no order at all, and
when the journal cannot be written (a scan that is not journaled is not acted on).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from shipgate.wire import DECISION_LABELS, Decision, Reason, message_for

if TYPE_CHECKING:
    from station.replica import ReplicaEntry


class Source(StrEnum):
    ONLINE = "online"  # the server decided (its answer is already in its journal)
    OFFLINE = "offline"  # the station decided from its replica; uploaded later
    LOCAL = "local"  # the station decided without any gate data (invalid code, journal failure)


class LocalReason(StrEnum):
    """Reasons only the station gives; they never travel on the wire."""

    DISK_FULL = "disk_full"
    JOURNAL_ERROR = "journal_error"
    NO_ALARM = "no_alarm"  # nothing on the bench could announce a BLOCK (station.alerts)


LOCAL_MESSAGES = {
    LocalReason.DISK_FULL: "磁盘已满 暂停发货 请联系主管",
    LocalReason.JOURNAL_ERROR: "扫描记录写入失败 暂停发货 请联系主管",
    LocalReason.NO_ALARM: "打印机故障且无屏幕、语音或指示灯 暂停发货 请联系主管",
}

STALE_POLICIES = ("hold", "trust")
LEAD_CODE_QUEUED = "主管处理码已记录 联网后上传"


@dataclass(frozen=True)
class Waybill:
    """What a PASS prints when the server sends a `waybill` (may be null on the wire)."""

    tracking_no: str
    carrier: str | None = None
    sort_code: str | None = None
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """One scan's decision, whoever made it: what the bench shows, prints and journals."""

    scan_id: str | None  # None only when the scan could not be journaled
    code: str
    decision: Decision
    reason: str  # a shipgate.wire.Reason value, or a LocalReason value
    message: str  # zh-CN, for the packer
    source: Source
    order_id: str | None = None
    sku_order_ids: tuple[str, ...] = ()
    gate_version: int | None = None
    exception_id: str | None = None
    waybill: Waybill | None = None
    items_out: tuple[str, ...] = ()  # partial_refund: the goods to take out, by name (online only)

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.decision]


def reason_message(
    reason: str, sku_order_ids_out: tuple[str, ...] = (), decision: Decision | None = None
) -> str:
    """The zh-CN message for a wire reason; unknown reasons fall back to the decision's label."""
    try:
        return message_for(Reason(reason), sku_order_ids_out)
    except ValueError:
        return DECISION_LABELS.get(decision, "暂停发货") if decision else "暂停发货"


def is_stale(age_s: float | None, max_age_s: float) -> bool:
    """A replica that never synced (age None) is stale."""
    return age_s is None or age_s > max_age_s


def offline(
    scan_id: str,
    code: str,
    entry: ReplicaEntry | None,
    *,
    age_s: float | None,
    max_age_s: float,
    policy: str,
    replica_version: int,
) -> Outcome:
    """Decide from the replica. policy "hold": a stale replica answers HOLD stale_replica (fail
    closed); policy "trust": a stale replica is used as it is (risk: a refund that succeeded since
    the last sync ships). An order the replica does not know is HOLD unknown_order either way."""
    if policy not in STALE_POLICIES:
        raise ValueError(f"unknown stale policy {policy!r}")
    if policy == "hold" and is_stale(age_s, max_age_s):
        return _hold(scan_id, code, Reason.STALE_REPLICA, Source.OFFLINE, replica_version)
    if entry is None:
        return _hold(scan_id, code, Reason.UNKNOWN_ORDER, Source.OFFLINE, replica_version)
    return Outcome(
        scan_id=scan_id,
        code=code,
        decision=entry.decision,
        reason=entry.reason,
        message=reason_message(entry.reason, entry.sku_out, entry.decision),
        source=Source.OFFLINE,
        order_id=entry.order_id,
        sku_order_ids=entry.sku_out,
        gate_version=replica_version,
    )


def invalid_code(scan_id: str | None, code: str) -> Outcome:
    """A code that is no order, sku, tracking number or Shipgate code: HOLD without asking."""
    return _hold(scan_id, code, Reason.INVALID_CODE, Source.LOCAL, None)


def lead_code_offline(scan_id: str, code: str, replica_version: int) -> Outcome:
    """An exception QR or resolution code while offline: nothing to clear locally; it is queued
    for upload and the server handles it then (the station decision on the wire is HOLD)."""
    return Outcome(
        scan_id, code, Decision.HOLD, Reason.UNKNOWN_ORDER.value, LEAD_CODE_QUEUED, Source.OFFLINE,
        gate_version=replica_version,
    )  # fmt: skip


def drill_offline(scan_id: str, code: str, replica_version: int) -> Outcome:
    """A drill code while offline: the gate must still block it (the server records the drill
    when the journal is uploaded)."""
    return Outcome(
        scan_id, code, Decision.BLOCK, Reason.DRILL.value, message_for(Reason.DRILL), Source.OFFLINE,
        gate_version=replica_version,
    )  # fmt: skip


def journal_failed(code: str, *, disk_full: bool) -> Outcome:
    """The scan could not be journaled, so it is not acted on: HOLD (fail closed)."""
    reason = LocalReason.DISK_FULL if disk_full else LocalReason.JOURNAL_ERROR
    return Outcome(None, code, Decision.HOLD, reason.value, LOCAL_MESSAGES[reason], Source.LOCAL)


def _hold(scan_id: str | None, code: str, reason: Reason, source: Source, version: int | None) -> Outcome:
    return Outcome(
        scan_id, code, Decision.HOLD, reason.value, message_for(reason), source, gate_version=version
    )
