"""The wire contract between the station and the server, written down once and typed on both
sides: each body below is a dataclass here with `to_json()` and a validating `from_json()` that
raises `WireError` (which field, why in zh-CN, a machine code). The server parses requests and
builds answers with these; the station builds requests and parses answers with the same.

Station API, JSON over HTTP, `Authorization: Bearer <station token>`, under /api/v1/:

POST /api/v1/scans                 ScanRequest -> ScanAnswer
    request  {"scan_id": str, "code": str, "operator": str|null, "scanned_at": ISO-8601 str,
              "mode": "bench"|"handover" (optional, default "bench")}
             + optional clock fields {"clock_synced": bool|null, "boot_id": str|null, "mono_s": number|null}
             (ScanClock; the server bounds scanned_at by its own clock: server.scanclock)
    response {"scan_id", "decision", "reason", "message", "order_id", "sku_order_ids_out",
              "gate_version", "decided_at", "exception_id", "waybill": Waybill|null, "items_out"}
    items_out: for partial_refund, the goods to take out by name (same order as sku_order_ids_out)
    The same scan_id again returns the stored answer and writes nothing.

POST /api/v1/scans/batch           BatchRequest -> BatchAnswer
    (scans a station decided offline, in journal order, at most 500)
    request  {"scans": [{"scan_id", "code", "operator", "scanned_at", "mode",
                          "station_decision", "station_reason", "station_gate_version"}]}
             + optional {"sent_boot_id", "sent_mono_s"} (SentClock) and each scan's clock fields
    response {"results": [<ScanAnswer> + {"station_decision", "station_reason", "duplicate": bool}]}

GET /api/v1/gate?since=<version>&limit=<n>   -> GateFeed (the replica feed; since=0 is a full snapshot)
    response {"version": <current max>, "entries": [GateEntry...], "next": <version to ask next>,
              "more": bool}
    GateEntry {"order_id", "decision", "reason", "sku_order_ids_out": [...], "codes": [...], "version"}
    `codes` are every code that resolves to the order now: its sku order ids and its current
    tracking numbers. A replica replaces an order's codes with each entry it receives.

POST /api/v1/heartbeat             Heartbeat -> HeartbeatReply
    request  {"software_version", "replica_version", "replica_age_s", "scanner", "printer",
              "queue_depth", "rss_bytes", "mode", "operator", "display",
              "screen", "voice", "light": "ok"|"down"|"off", "clock_synced": "yes"|"no"|"unknown",
              "disk_written_bytes"} (every field optional);
              printer: unknown|ready|offline|paper_near_end|paper_out|cover_open
    response {"ok": true, "server_time", "gate_version", "station": <its enrolled name>}

POST /api/v1/scans/forwarding      ForwardingRequest -> ForwardingAnswer
    (the inline gate: did each PASS reach the packing PC)
    request  {"reports": [{"scan_id", "state": "forwarded"|"failed"|"unknown", "at": ISO-8601 str,
                           "problem": str|null}]}                                  (at most 500)
    response {"results": [{"scan_id", "stored": bool, "error": null|"unknown_scan"|"not_pass"}]}
    Sent after the scan itself is on the server (online, or uploaded in a batch); "unknown_scan"
    means not yet: the station reports it again later. A stored report is never changed.

The sku orders to take out of a parcel are `sku_order_ids_out` everywhere on the wire (until
0.1.0 the scan answer called them `sku_order_ids`; no station of that version was deployed, so
the old name is not sent). Order ids are strings end to end (19 digits exceed 2^53).
A station's own reasons (`LocalReason`: disk full, journal error) travel only as the
`station_reason` of an upload. An unknown decision or reason is a contract error, not a guess.

Errors are always {"error": <machine code>, "message": <zh-CN text>} with a 4xx status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shipgate.wirecheck import (
    WireError,
    boolean,
    expect_fields,
    integer,
    json_object,
    number,
    order_id,
    parse_time,
    strings,
    text,
    where_of,
)

__all__ = ["WireError", "expect_fields", "parse_time"]  # re-exported: shipgate.wirecheck

API_PREFIX = "/api/v1"
BATCH_LIMIT = 500
SCAN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CODE = 512
MAX_OPERATOR = 48
MAX_HEALTH_TEXT = 200


class Decision(StrEnum):
    PASS = "PASS"
    BLOCK = "BLOCK"
    HOLD = "HOLD"


class Reason(StrEnum):
    CLEAR = "clear"  # PASS: nothing stands in the way
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    REFUND_PENDING = "refund_pending"
    PARTIAL_REFUND = "partial_refund"
    UNPAID = "unpaid"
    UNKNOWN_ORDER = "unknown_order"
    STALE_REPLICA = "stale_replica"
    INVALID_CODE = "invalid_code"
    DRILL = "drill"
    OVERRIDE = "override"  # PASS: an admin released this order in the console
    OTHER_WAREHOUSE = "other_warehouse"  # HOLD: the order ships from another warehouse's shops
    # Answers to the codes a lead scans at the bench (badge, exception QR, resolution sheet):
    SIGNED_IN = "signed_in"
    EXCEPTION_CLEARED = "exception_cleared"
    AWAITING_RESOLUTION = "awaiting_resolution"
    NOT_LEAD = "not_lead"
    UNKNOWN_BADGE = "unknown_badge"
    NO_EXCEPTION = "no_exception"
    NO_PENDING = "no_pending"
    RESOLUTION_REFUSED = "resolution_refused"
    LEAD_CODE_REFUSED = "lead_code_refused"  # offline, or at a handover station
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # too many refused lead codes at this station


class LocalReason(StrEnum):
    """Reasons only a station gives (it could not journal the scan); sent only as an upload's
    `station_reason`."""

    DISK_FULL = "disk_full"
    JOURNAL_ERROR = "journal_error"
    NO_ALARM = "no_alarm"  # nothing on the bench could announce a BLOCK (station.alerts)


class ScanMode(StrEnum):
    BENCH = "bench"
    HANDOVER = "handover"


class Source(StrEnum):
    """Who decided a scan. The server records online or offline (what a station decided on its
    own, from its replica or locally, arrives as an offline upload)."""

    ONLINE = "online"  # the server decided (its answer is already in its journal)
    OFFLINE = "offline"  # the station decided from its replica; uploaded later
    LOCAL = "local"  # the station decided without any gate data (invalid code, journal failure)


def station_reason(value: str) -> Reason | LocalReason:
    """A reason as a station may report it: a wire Reason or one of its own. ValueError else."""
    try:
        return Reason(value)
    except ValueError:
        return LocalReason(value)


MESSAGES: dict[Reason, str] = {
    Reason.CLEAR: "可发货",
    Reason.REFUNDED: "已退款 请勿发货",
    Reason.CANCELLED: "订单已取消 请勿发货",
    Reason.REFUND_PENDING: "买家申请退款中 暂停发货",
    Reason.PARTIAL_REFUND: "部分商品已退款 请取出退款商品",
    Reason.UNPAID: "订单未付款 暂停发货",
    Reason.UNKNOWN_ORDER: "查无此订单 暂停发货 请联系主管",
    Reason.STALE_REPLICA: "离线数据过旧 暂停发货 请联系主管",
    Reason.INVALID_CODE: "无法识别的条码 请重新扫描",
    Reason.DRILL: "演练码 已拦截 演练成功",
    Reason.OVERRIDE: "管理员已放行 可发货",
    Reason.OTHER_WAREHOUSE: "非本仓订单 暂停发货 请联系主管",
    Reason.SIGNED_IN: "已登录",
    Reason.EXCEPTION_CLEARED: "异常已清除",
    Reason.AWAITING_RESOLUTION: "请扫描处理方式",
    Reason.NOT_LEAD: "只有主管可以清除异常",
    Reason.UNKNOWN_BADGE: "未知工牌",
    Reason.NO_EXCEPTION: "没有这个待处理异常",
    Reason.NO_PENDING: "请先扫描异常单二维码",
    Reason.RESOLUTION_REFUSED: "该处理方式不可用",
    Reason.LEAD_CODE_REFUSED: "主管码只能在打包台在线扫描",
    Reason.TOO_MANY_ATTEMPTS: "主管码错误次数过多 请一分钟后再试",
}

DECISION_LABELS: dict[Decision, str] = {
    Decision.PASS: "可发货",
    Decision.BLOCK: "已退款 请勿发货",
    Decision.HOLD: "暂停发货",
}


def message_for(reason: Reason, sku_order_ids_out: list[str] | tuple[str, ...] = ()) -> str:
    """The packer's zh-CN message for a reason (naming the sku orders to take out, if any)."""
    text = MESSAGES[reason]
    if sku_order_ids_out:
        text += "：" + "、".join(sku_order_ids_out)
    return text


@dataclass(frozen=True)
class Verdict:
    """What the gate says about one order, before any scan: the replicated unit."""

    decision: Decision
    reason: Reason
    sku_order_ids_out: tuple[str, ...] = field(default=())

    @property
    def message(self) -> str:
        return message_for(self.reason, self.sku_order_ids_out)


# --- the bodies -----------------------------------------------------------------------------------


def _enum(kind, value: Any, name: str, choices: str | None = None):
    try:
        return kind(value)
    except ValueError:
        pass
    raise WireError(name, f"{name} 必须是 {choices}" if choices else f"{name} 未知：{str(value)[:32]}")


def _reason_of_station(value: Any, name: str) -> Reason | LocalReason:
    if isinstance(value, str):
        try:
            return station_reason(value)
        except ValueError:
            pass
    raise WireError(name, f"{name} 未知：{str(value)[:32]}")


MAX_BOOT_ID = 64
MAX_MONO_S = 1e10


def _mono(value: Any, name: str) -> float | None:
    seconds = number(value, name)
    if seconds is not None and not 0 <= seconds < MAX_MONO_S:
        raise WireError(name, f"{name} 必须是非负秒数")
    return None if seconds is None else float(seconds)


@dataclass(frozen=True)
class ScanClock:
    """What a station says about the clock that stamped a scan (server.scanclock bounds it):
    whether it was synchronised, and the boot id and monotonic time at the scan."""

    synced: bool | None = None
    boot_id: str | None = None
    mono_s: float | None = None

    FIELDS = ("clock_synced", "boot_id", "mono_s")

    def to_json(self) -> dict:
        return {"clock_synced": self.synced, "boot_id": self.boot_id, "mono_s": self.mono_s}

    @classmethod
    def from_json(cls, item: dict, where: str = "") -> ScanClock:
        synced = item.get("clock_synced")
        if synced is not None and not isinstance(synced, bool):
            name = where_of(where, "clock_synced")
            raise WireError(name, f"{name} 必须是 true、false 或 null")
        return cls(
            synced=synced,
            boot_id=text(item.get("boot_id"), where_of(where, "boot_id"), limit=MAX_BOOT_ID, optional=True),
            mono_s=_mono(item.get("mono_s"), where_of(where, "mono_s")),
        )


@dataclass(frozen=True)
class SentClock:
    """An upload's own clock fields: the uploading station's boot id and monotonic time."""

    boot_id: str | None = None
    mono_s: float | None = None

    FIELDS = ("sent_boot_id", "sent_mono_s")

    def to_json(self) -> dict:
        return {"sent_boot_id": self.boot_id, "sent_mono_s": self.mono_s}

    @classmethod
    def from_json(cls, body: dict) -> SentClock:
        return cls(
            boot_id=text(body.get("sent_boot_id"), "sent_boot_id", limit=MAX_BOOT_ID, optional=True),
            mono_s=_mono(body.get("sent_mono_s"), "sent_mono_s"),
        )


@dataclass(frozen=True)
class ScanRequest:
    """One scan, as a station sends it. The station_* fields only in an offline upload."""

    scan_id: str
    code: str
    scanned_at: datetime
    operator: str | None = None
    mode: ScanMode = ScanMode.BENCH
    station_decision: Decision | None = None
    station_reason: Reason | LocalReason | None = None
    station_gate_version: int | None = None
    clock: ScanClock = ScanClock()

    @property
    def offline(self) -> bool:
        return self.station_decision is not None

    def to_json(self) -> dict:
        body = {
            "scan_id": self.scan_id,
            "code": self.code,
            "operator": self.operator,
            "scanned_at": self.scanned_at.isoformat(timespec="milliseconds"),
            "mode": self.mode.value,
        }
        if self.offline:
            body["station_decision"] = self.station_decision.value
            body["station_reason"] = self.station_reason.value if self.station_reason else None
            body["station_gate_version"] = self.station_gate_version
        if self.clock != ScanClock():
            body.update(self.clock.to_json())
        return body

    @classmethod
    def from_json(cls, data: Any, *, offline: bool, where: str = "") -> ScanRequest:
        item = json_object(data, where)
        required = {"scan_id", "code", "scanned_at"}
        optional = {"operator", "mode", *ScanClock.FIELDS}
        if offline:
            required |= {"station_decision", "station_reason"}
            optional |= {"station_gate_version"}
        expect_fields(item, required=required, optional=optional, where=where)
        scan_id = item["scan_id"]
        if not isinstance(scan_id, str) or not SCAN_ID.match(scan_id):
            name = where_of(where, "scan_id")
            raise WireError(name, f"{name} 必须是 1–64 位字母、数字或 _.:-")
        station = {}
        if offline:
            station = {
                "station_decision": _enum(
                    Decision,
                    item["station_decision"],
                    where_of(where, "station_decision"),
                    "PASS、BLOCK 或 HOLD",
                ),
                "station_reason": _reason_of_station(
                    item["station_reason"], where_of(where, "station_reason")
                ),
                "station_gate_version": integer(
                    item.get("station_gate_version"), where_of(where, "station_gate_version"), optional=True
                ),
            }
        return cls(
            scan_id=scan_id,
            code=text(item["code"], where_of(where, "code"), limit=MAX_CODE),
            scanned_at=parse_time(item["scanned_at"], where_of(where, "scanned_at")),
            operator=text(
                item.get("operator"), where_of(where, "operator"), limit=MAX_OPERATOR, optional=True
            ),
            mode=_enum(
                ScanMode, item.get("mode", ScanMode.BENCH.value), where_of(where, "mode"), "bench 或 handover"
            ),
            **station,
            clock=ScanClock.from_json(item, where),
        )


@dataclass(frozen=True)
class BatchRequest:
    scans: tuple[ScanRequest, ...]
    sent: SentClock = SentClock()  # the uploader's clock when it sent the batch (server.scanclock)

    def to_json(self) -> dict:
        body = {"scans": [s.to_json() for s in self.scans]}
        if self.sent != SentClock():
            body.update(self.sent.to_json())
        return body

    @classmethod
    def from_json(cls, data: Any) -> BatchRequest:
        body = json_object(data, "")
        expect_fields(body, required={"scans"}, optional=set(SentClock.FIELDS))
        items = body["scans"]
        if not isinstance(items, list) or not items:
            raise WireError("scans", "scans 必须是非空数组")
        if len(items) > BATCH_LIMIT:
            raise WireError("scans", f"一次最多上传 {BATCH_LIMIT} 条", "batch_too_large")
        return cls(
            tuple(
                ScanRequest.from_json(item, offline=True, where=f"scans[{i}]") for i, item in enumerate(items)
            ),
            SentClock.from_json(body),
        )


@dataclass(frozen=True)
class WaybillItem:
    sku_order_id: str
    name: str
    code: str | None = None
    num: int = 1

    def __str__(self) -> str:
        return f"{self.name or self.sku_order_id} ×{self.num}"

    def to_json(self) -> dict:
        return {"sku_order_id": self.sku_order_id, "name": self.name, "code": self.code, "num": self.num}

    @classmethod
    def from_json(cls, data: Any, where: str) -> WaybillItem:
        item = json_object(data, where)
        return cls(
            sku_order_id=order_id(item.get("sku_order_id"), where_of(where, "sku_order_id"), optional=False),
            name=text(item.get("name", ""), where_of(where, "name"), limit=256),
            code=text(item.get("code"), where_of(where, "code"), limit=64, optional=True),
            num=integer(item.get("num", 1), where_of(where, "num")),
        )


@dataclass(frozen=True)
class Waybill:
    """What a PASS prints: the order's current waybill and its goods (the gate entry's label)."""

    tracking_no: str
    company: str = ""
    order_id: str | None = None
    items: tuple[WaybillItem, ...] = ()
    sort_code: str | None = None

    @property
    def carrier(self) -> str | None:
        return self.company or None

    def to_json(self) -> dict:
        body = {
            "tracking_no": self.tracking_no,
            "company": self.company,
            "order_id": self.order_id,
            "items": [i.to_json() for i in self.items],
        }
        if self.sort_code:
            body["sort_code"] = self.sort_code
        return body

    @classmethod
    def of_label(cls, label: dict) -> Waybill:
        """A gate entry's label, which the server built to this contract itself
        (server.gatestate.label_of): taken as it is, on the scan path, without checking again."""
        items = label.get("items") or ()
        return cls(
            tracking_no=label["tracking_no"],
            company=label.get("company") or "",
            order_id=label.get("order_id"),
            items=tuple(
                WaybillItem(i["sku_order_id"], i.get("name", ""), i.get("code"), i.get("num", 1))
                for i in items
            ),
        )

    @classmethod
    def from_json(cls, data: Any, where: str = "waybill") -> Waybill | None:
        if data is None:
            return None
        body = json_object(data, where)
        items = body.get("items") or []
        if not isinstance(items, list):
            raise WireError(where_of(where, "items"), f"{where_of(where, 'items')} 必须是数组")
        return cls(
            tracking_no=text(body.get("tracking_no"), where_of(where, "tracking_no"), limit=64),
            company=text(body.get("company") or "", where_of(where, "company"), limit=64),
            order_id=order_id(body.get("order_id"), where_of(where, "order_id")),
            items=tuple(WaybillItem.from_json(i, f"{where}.items[{n}]") for n, i in enumerate(items)),
            sort_code=text(body.get("sort_code"), where_of(where, "sort_code"), limit=32, optional=True),
        )


@dataclass(frozen=True)
class ScanAnswer:
    """The server's decision on one scan."""

    scan_id: str
    decision: Decision
    reason: Reason
    message: str  # zh-CN, for the packer
    order_id: str | None
    sku_order_ids_out: tuple[str, ...]
    gate_version: int
    decided_at: datetime
    exception_id: int | None = None
    waybill: Waybill | None = None
    items_out: tuple[str, ...] = ()  # partial_refund: the goods to take out, by name (server.goods)

    def to_json(self) -> dict:
        return {
            "scan_id": self.scan_id,
            "decision": self.decision.value,
            "reason": self.reason.value,
            "message": self.message,
            "order_id": self.order_id,
            "sku_order_ids_out": list(self.sku_order_ids_out),
            "gate_version": self.gate_version,
            "decided_at": self.decided_at.isoformat(),
            "exception_id": self.exception_id,
            "waybill": self.waybill.to_json() if self.waybill else None,
            "items_out": list(self.items_out),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "") -> ScanAnswer:
        body = json_object(data, where)
        return cls(
            scan_id=text(body.get("scan_id"), where_of(where, "scan_id"), limit=64),
            decision=_enum(
                Decision, body.get("decision"), where_of(where, "decision"), "PASS、BLOCK 或 HOLD"
            ),
            reason=_enum(Reason, body.get("reason"), where_of(where, "reason")),
            message=text(body.get("message", ""), where_of(where, "message"), limit=500),
            order_id=order_id(body.get("order_id"), where_of(where, "order_id")),
            sku_order_ids_out=strings(
                body.get("sku_order_ids_out", []), where_of(where, "sku_order_ids_out")
            ),
            gate_version=integer(body.get("gate_version"), where_of(where, "gate_version")),
            decided_at=parse_time(body.get("decided_at"), where_of(where, "decided_at")),
            exception_id=integer(body.get("exception_id"), where_of(where, "exception_id"), optional=True),
            waybill=Waybill.from_json(body.get("waybill"), where_of(where, "waybill")),
            items_out=strings(body.get("items_out", []), where_of(where, "items_out")),
        )


@dataclass(frozen=True)
class BatchResult:
    """The server's decision on one uploaded scan, beside what the station had decided."""

    answer: ScanAnswer
    station_decision: Decision
    station_reason: Reason | LocalReason
    duplicate: bool

    def to_json(self) -> dict:
        return {
            **self.answer.to_json(),
            "station_decision": self.station_decision.value,
            "station_reason": self.station_reason.value,
            "duplicate": self.duplicate,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> BatchResult:
        body = json_object(data, where)
        return cls(
            answer=ScanAnswer.from_json(body, where),
            station_decision=_enum(
                Decision, body.get("station_decision"), where_of(where, "station_decision")
            ),
            station_reason=_reason_of_station(body.get("station_reason"), where_of(where, "station_reason")),
            duplicate=boolean(body.get("duplicate"), where_of(where, "duplicate")),
        )


@dataclass(frozen=True)
class BatchAnswer:
    results: tuple[BatchResult, ...]

    def to_json(self) -> dict:
        return {"results": [r.to_json() for r in self.results]}

    @classmethod
    def from_json(cls, data: Any) -> BatchAnswer:
        results = json_object(data, "").get("results")
        if not isinstance(results, list):
            raise WireError("results", "results 必须是数组")
        return cls(tuple(BatchResult.from_json(r, f"results[{i}]") for i, r in enumerate(results)))


@dataclass(frozen=True)
class GateEntry:
    """One order's verdict in the replica feed, with every code that resolves to it now."""

    order_id: str
    decision: Decision
    reason: Reason
    sku_order_ids_out: tuple[str, ...]
    codes: tuple[str, ...]
    version: int

    def to_json(self) -> dict:
        return {
            "order_id": self.order_id,
            "decision": self.decision.value,
            "reason": self.reason.value,
            "sku_order_ids_out": list(self.sku_order_ids_out),
            "codes": list(self.codes),
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> GateEntry:
        body = json_object(data, where)
        return cls(
            order_id=order_id(body.get("order_id"), where_of(where, "order_id"), optional=False),
            decision=_enum(
                Decision, body.get("decision"), where_of(where, "decision"), "PASS、BLOCK 或 HOLD"
            ),
            reason=_enum(Reason, body.get("reason"), where_of(where, "reason")),
            sku_order_ids_out=strings(
                body.get("sku_order_ids_out", []), where_of(where, "sku_order_ids_out")
            ),
            codes=strings(body.get("codes", []), where_of(where, "codes")),
            version=integer(body.get("version"), where_of(where, "version")),
        )


@dataclass(frozen=True)
class GateFeed:
    version: int
    entries: tuple[GateEntry, ...]
    next: int
    more: bool

    def to_json(self) -> dict:
        return {
            "version": self.version,
            "entries": [e.to_json() for e in self.entries],
            "next": self.next,
            "more": self.more,
        }

    @classmethod
    def from_json(cls, data: Any) -> GateFeed:
        body = json_object(data, "")
        entries = body.get("entries")
        if not isinstance(entries, list):
            raise WireError("entries", "entries 必须是数组")
        return cls(
            version=integer(body.get("version"), "version"),
            entries=tuple(GateEntry.from_json(e, f"entries[{i}]") for i, e in enumerate(entries)),
            next=integer(body.get("next"), "next"),
            more=boolean(body.get("more"), "more"),
        )


@dataclass(frozen=True)
class Heartbeat:
    """A station's health, every field optional (a station sends what it knows)."""

    software_version: str | None = None
    replica_version: int | None = None
    replica_age_s: float | None = None
    scanner: str | None = None
    printer: str | None = None
    queue_depth: int | None = None
    rss_bytes: int | None = None
    mode: str | None = None
    operator: str | None = None
    display: str | None = None
    # the bench's alert channels ("ok" | "down" | "off"), its clock and its disk writes (station.alerts)
    screen: str | None = None
    voice: str | None = None
    light: str | None = None
    clock_synced: str | None = None  # "yes" | "no" | "unknown"
    disk_written_bytes: int | None = None

    _TEXT = ("software_version", "scanner", "printer", "mode", "operator", "display", "screen", "voice", "light",
             "clock_synced")  # fmt: skip
    _INTEGERS = ("replica_version", "queue_depth", "rss_bytes", "disk_written_bytes")

    def to_json(self) -> dict:
        """The fields it knows (None: not sent)."""
        return {
            name: getattr(self, name) for name in self.__dataclass_fields__ if getattr(self, name) is not None
        }

    @classmethod
    def from_json(cls, data: Any) -> Heartbeat:
        body = json_object(data, "")
        expect_fields(body, optional=set(cls.__dataclass_fields__))
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name in cls._TEXT:
                values[name] = text(
                    value, name, limit=MAX_HEALTH_TEXT, optional=name in ("operator", "display")
                )
            elif name in cls._INTEGERS:
                values[name] = integer(value, name, minimum=None)
            else:
                values[name] = number(value, name)
        return cls(**values)


@dataclass(frozen=True)
class HeartbeatReply:
    ok: bool
    server_time: datetime
    gate_version: int
    station: str | None = None  # the name the station was enrolled with ([station] name is optional)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "server_time": self.server_time.isoformat(),
            "gate_version": self.gate_version,
            "station": self.station,
        }

    @classmethod
    def from_json(cls, data: Any) -> HeartbeatReply:
        body = json_object(data, "")
        return cls(
            ok=boolean(body.get("ok"), "ok"),
            server_time=parse_time(body.get("server_time"), "server_time"),
            gate_version=integer(body.get("gate_version"), "gate_version"),
            station=text(body.get("station"), "station", limit=MAX_HEALTH_TEXT, optional=True),
        )


# -- the inline gate (issue 13): whether a PASS was typed into the packing PC ---------------------


class Forwarding(StrEnum):
    FORWARDED = "forwarded"  # the code and its suffix reached the PC: the ERP printed the waybill
    FAILED = "failed"  # it did not (device gone, no reply): no waybill printed
    UNKNOWN = "unknown"  # the station stopped while typing: the PC may hold part of the code


FORWARDING_LABELS: dict[Forwarding, str] = {
    Forwarding.FORWARDED: "已送到打单电脑",
    Forwarding.FAILED: "转发失败 运单未打印",
    Forwarding.UNKNOWN: "转发中断 运单可能未打印",
}


FORWARD_ERRORS = ("unknown_scan", "not_pass")  # a report not stored: scan not there yet, or not a PASS
MAX_PROBLEM = 500


@dataclass(frozen=True)
class ForwardReport:
    """One forwarding attempt of a PASS: whether its code was typed into the packing PC."""

    scan_id: str
    state: Forwarding
    at: datetime
    problem: str | None = None

    def to_json(self) -> dict:
        return {
            "scan_id": self.scan_id,
            "state": self.state.value,
            "at": self.at.isoformat(timespec="milliseconds"),
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> ForwardReport:
        item = json_object(data, where)
        expect_fields(item, required={"scan_id", "state", "at"}, optional={"problem"}, where=where)
        scan_id = item["scan_id"]
        if not isinstance(scan_id, str) or not SCAN_ID.match(scan_id):
            name = where_of(where, "scan_id")
            raise WireError(name, f"{name} 必须是 1–64 位字母、数字或 _.:-")
        return cls(
            scan_id=scan_id,
            state=_enum(Forwarding, item["state"], where_of(where, "state"), "forwarded、failed 或 unknown"),
            at=parse_time(item["at"], where_of(where, "at")),
            problem=text(item.get("problem"), where_of(where, "problem"), limit=MAX_PROBLEM, optional=True),
        )


@dataclass(frozen=True)
class ForwardingRequest:
    reports: tuple[ForwardReport, ...]

    def to_json(self) -> dict:
        return {"reports": [r.to_json() for r in self.reports]}

    @classmethod
    def from_json(cls, data: Any) -> ForwardingRequest:
        body = json_object(data, "")
        expect_fields(body, required={"reports"})
        items = body["reports"]
        if not isinstance(items, list) or not items or len(items) > BATCH_LIMIT:
            raise WireError("reports", f"reports 必须是 1–{BATCH_LIMIT} 条的数组")
        return cls(tuple(ForwardReport.from_json(item, f"reports[{i}]") for i, item in enumerate(items)))


@dataclass(frozen=True)
class ForwardAnswer:
    """Whether the server stored one report; `error` says why not (FORWARD_ERRORS)."""

    scan_id: str
    stored: bool
    error: str | None = None

    def to_json(self) -> dict:
        return {"scan_id": self.scan_id, "stored": self.stored, "error": self.error}

    @classmethod
    def from_json(cls, data: Any, where: str) -> ForwardAnswer:
        body = json_object(data, where)
        error = body.get("error")
        if error is not None and error not in FORWARD_ERRORS:
            raise WireError(where_of(where, "error"), f"{where_of(where, 'error')} 未知：{str(error)[:32]}")
        return cls(
            scan_id=text(body.get("scan_id"), where_of(where, "scan_id"), limit=64),
            stored=boolean(body.get("stored"), where_of(where, "stored")),
            error=error,
        )


@dataclass(frozen=True)
class ForwardingAnswer:
    results: tuple[ForwardAnswer, ...]

    def to_json(self) -> dict:
        return {"results": [r.to_json() for r in self.results]}

    @classmethod
    def from_json(cls, data: Any) -> ForwardingAnswer:
        results = json_object(data, "").get("results")
        if not isinstance(results, list):
            raise WireError("results", "results 必须是数组")
        return cls(tuple(ForwardAnswer.from_json(r, f"results[{i}]") for i, r in enumerate(results)))
