"""The station's decisions, as data. Pure: no I/O, no clock, no globals.

The server decides when it can; the station decides on its own only when it must: offline from
its replica (fail closed when the replica is too old), for codes that are no order at all, and
when the journal cannot be written (a scan that is not journaled is not acted on).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shipgate.wire import (
    DECISION_LABELS,
    Decision,
    GateEntry,
    LocalReason,
    Reason,
    Source,
    Waybill,
    message_for,
    station_reason,
)

__all__ = ["LocalReason", "Outcome", "Source", "StalePolicy", "Waybill"]


LOCAL_MESSAGES = {
    LocalReason.DISK_FULL: "磁盘已满 暂停发货 请联系主管",
    LocalReason.JOURNAL_ERROR: "扫描记录写入失败 暂停发货 请联系主管",
    LocalReason.NO_ALARM: "打印机故障且无屏幕、语音或指示灯 暂停发货 请联系主管",
}


class StalePolicy(StrEnum):
    """What a station does offline with a replica older than its limit."""

    HOLD = "hold"  # answer HOLD stale_replica (fail closed)
    TRUST = "trust"  # use it as it is (risk: a refund that succeeded since the last sync ships)


LEAD_CODE_QUEUED = "主管处理码已记录 联网后上传"


@dataclass(frozen=True)
class Outcome:
    """One scan's decision, whoever made it: what the bench shows, prints and journals."""

    scan_id: str | None  # None only when the scan could not be journaled
    code: str
    decision: Decision
    reason: Reason | LocalReason
    message: str  # zh-CN, for the packer
    source: Source
    order_id: str | None = None
    sku_order_ids_out: tuple[str, ...] = ()
    gate_version: int | None = None
    exception_id: int | None = None
    waybill: Waybill | None = None
    items_out: tuple[str, ...] = ()  # partial_refund: the goods to take out, by name (online only)

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.decision]


def reason_message(reason: str, sku_order_ids_out: tuple[str, ...] = ()) -> str:
    """The zh-CN message for a reason the station stored (a wire Reason or a LocalReason)."""
    known = station_reason(reason)
    if isinstance(known, LocalReason):
        return LOCAL_MESSAGES[known]
    return message_for(known, sku_order_ids_out)


def is_stale(age_s: float | None, max_age_s: float) -> bool:
    """A replica that never synced (age None) is stale."""
    return age_s is None or age_s > max_age_s


def offline(
    scan_id: str,
    code: str,
    entry: GateEntry | None,
    *,
    age_s: float | None,
    max_age_s: float,
    policy: StalePolicy,
    replica_version: int,
) -> Outcome:
    """Decide from the replica. StalePolicy.HOLD: a stale replica answers HOLD stale_replica (fail
    closed); TRUST: a stale replica is used as it is (risk: a refund that succeeded since the last
    sync ships). An order the replica does not know is HOLD unknown_order either way."""
    if StalePolicy(policy) is StalePolicy.HOLD and is_stale(age_s, max_age_s):
        return _hold(scan_id, code, Reason.STALE_REPLICA, Source.OFFLINE, replica_version)
    if entry is None:
        return _hold(scan_id, code, Reason.UNKNOWN_ORDER, Source.OFFLINE, replica_version)
    return Outcome(
        scan_id=scan_id,
        code=code,
        decision=entry.decision,
        reason=entry.reason,
        message=message_for(entry.reason, entry.sku_order_ids_out),
        source=Source.OFFLINE,
        order_id=entry.order_id,
        sku_order_ids_out=entry.sku_order_ids_out,
        gate_version=replica_version,
    )


def invalid_code(scan_id: str | None, code: str) -> Outcome:
    """A code that is no order, sku, tracking number or Shipgate code: HOLD without asking."""
    return _hold(scan_id, code, Reason.INVALID_CODE, Source.LOCAL, None)


def lead_code_offline(scan_id: str, code: str, replica_version: int) -> Outcome:
    """An exception QR or resolution code while offline: nothing to clear locally; it is queued
    for upload and the server handles it then (the station decision on the wire is HOLD)."""
    return Outcome(
        scan_id, code, Decision.HOLD, Reason.UNKNOWN_ORDER, LEAD_CODE_QUEUED, Source.OFFLINE,
        gate_version=replica_version,
    )  # fmt: skip


def drill_offline(scan_id: str, code: str, replica_version: int) -> Outcome:
    """A drill code while offline: the gate must still block it (the server records the drill
    when the journal is uploaded)."""
    return Outcome(
        scan_id, code, Decision.BLOCK, Reason.DRILL, message_for(Reason.DRILL), Source.OFFLINE,
        gate_version=replica_version,
    )  # fmt: skip


def journal_failed(code: str, *, disk_full: bool) -> Outcome:
    """The scan could not be journaled, so it is not acted on: HOLD (fail closed)."""
    reason = LocalReason.DISK_FULL if disk_full else LocalReason.JOURNAL_ERROR
    return Outcome(None, code, Decision.HOLD, reason, LOCAL_MESSAGES[reason], Source.LOCAL)


def _hold(scan_id: str | None, code: str, reason: Reason, source: Source, version: int | None) -> Outcome:
    return Outcome(scan_id, code, Decision.HOLD, reason, message_for(reason), source, gate_version=version)
