"""The wire contract between the station and the server, written down once.

Station API, JSON over HTTP, `Authorization: Bearer <station token>`, under /api/v1/:

POST /api/v1/scans
    request  {"scan_id": str, "code": str, "operator": str|null, "scanned_at": ISO-8601 str,
              "mode": "bench"|"handover" (optional, default "bench")}
             + optional clock fields {"clock_synced": bool|null, "boot_id": str|null, "mono_s": number|null}
             (the server bounds scanned_at by its own clock: server.scanclock)
    response {"scan_id", "decision", "reason", "message", "order_id", "sku_order_ids",
              "gate_version", "decided_at", "exception_id", "waybill", "items_out"}
    items_out: for partial_refund, the goods to take out by name (same order as sku_order_ids)
    The same scan_id again returns the stored answer and writes nothing.

POST /api/v1/scans/batch          (scans a station decided offline, in journal order, at most 500)
    request  {"scans": [{"scan_id", "code", "operator", "scanned_at", "mode",
                          "station_decision", "station_reason", "station_gate_version"}]}
             + optional {"sent_boot_id", "sent_mono_s"} and each scan's clock fields
    response {"results": [<scan response> + {"station_decision", "station_reason", "duplicate": bool}]}

GET /api/v1/gate?since=<version>&limit=<n>   (the replica feed; since=0 is a full snapshot)
    response {"version": <current max>, "entries": [GateEntry...], "next": <version to ask next>,
              "more": bool}
    GateEntry {"order_id", "decision", "reason", "sku_order_ids_out": [...], "codes": [...], "version"}
    `codes` are every code that resolves to the order now: its sku order ids and its current
    tracking numbers. A replica replaces an order's codes with each entry it receives.

POST /api/v1/heartbeat
    request  {"software_version", "replica_version", "replica_age_s", "scanner", "printer",
              "queue_depth", "rss_bytes", "mode", "operator"}
             + optional {"screen", "voice", "light": "ok"|"down"|"off", "clock_synced": "yes"|"no"|"unknown",
              "disk_written_bytes"}; printer: unknown|ready|offline|paper_near_end|paper_out|cover_open
    response {"ok": true, "server_time", "gate_version", "station": <its enrolled name>}

Errors are always {"error": <machine code>, "message": <zh-CN text>} with a 4xx status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

API_PREFIX = "/api/v1"
BATCH_LIMIT = 500


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
    # Answers to the codes a lead scans at the bench (badge, exception QR, resolution sheet):
    SIGNED_IN = "signed_in"
    EXCEPTION_CLEARED = "exception_cleared"
    AWAITING_RESOLUTION = "awaiting_resolution"
    NOT_LEAD = "not_lead"
    UNKNOWN_BADGE = "unknown_badge"
    NO_EXCEPTION = "no_exception"
    NO_PENDING = "no_pending"
    RESOLUTION_REFUSED = "resolution_refused"


class ScanMode(StrEnum):
    BENCH = "bench"
    HANDOVER = "handover"


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
    Reason.SIGNED_IN: "已登录",
    Reason.EXCEPTION_CLEARED: "异常已清除",
    Reason.AWAITING_RESOLUTION: "请扫描处理方式",
    Reason.NOT_LEAD: "只有主管可以清除异常",
    Reason.UNKNOWN_BADGE: "未知工牌",
    Reason.NO_EXCEPTION: "没有这个待处理异常",
    Reason.NO_PENDING: "请先扫描异常单二维码",
    Reason.RESOLUTION_REFUSED: "该处理方式不可用",
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
