"""zh-CN labels for what the console shows, and the time formats it uses. Pure.

Douyin's status numbers and their Chinese names are written once, in server.douyin.enums.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from server.douyin.enums import (
    AFTERSALE_STATUS_DESC,
    AFTERSALE_TYPE_DESC,
    MAIN_STATUS_DESC,
    ORDER_STATUS_DESC,
)
from shipgate.wire import FORWARDING_LABELS, Decision, ScanMode

# Warehouses are in China: no daylight saving, so a fixed offset is exact and needs no tzdata.
CHINA = timezone(timedelta(hours=8), "CST")

DECISIONS = {Decision.PASS: "可发货", Decision.BLOCK: "拦截", Decision.HOLD: "暂停"}

REASONS = {
    "clear": "正常",
    "refunded": "已退款",
    "cancelled": "订单已取消",
    "refund_pending": "退款申请中",
    "partial_refund": "部分商品已退款",
    "unpaid": "未付款",
    "unknown_order": "查无此订单",
    "stale_replica": "离线数据过旧",
    "invalid_code": "无法识别的条码",
    "drill": "演练",
    "disk_full": "工作站磁盘已满",
    "no_alarm": "工作站无法报警",
}

CLOCK_FLAGS = {  # server.scanclock.ClockFlag
    "skewed": "工位时钟偏差过大，按服务器时间记录",
    "unsynced": "工位时钟未同步",
}

ROLES = {"lead": "主管", "admin": "管理员"}

# Douyin's status words, written once in server.douyin.enums.
ORDER_STATUS = ORDER_STATUS_DESC
MAIN_STATUS = MAIN_STATUS_DESC
AFTERSALE_TYPES = AFTERSALE_TYPE_DESC
AFTERSALE_STATUS = AFTERSALE_STATUS_DESC
REFUND_STATUS = {1: "待退款", 2: "退款中", 3: "退款成功", 4: "退款失败", 5: "追缴成功"}

DEVICE_STATES = {
    "connected": "正常",
    "ready": "正常",
    "ok": "正常",
    "disconnected": "未连接",
    "reconnecting": "重连中",
    "offline": "离线",
    "unknown": "未知",
    "paper_out": "缺纸",
    "paper_near_end": "纸将用完",
    "cover_open": "上盖打开",
}

MODES = {ScanMode.BENCH: "打包台", ScanMode.HANDOVER: "交接点"}

FORWARDING = dict(FORWARDING_LABELS)  # the inline gate
PRINTER_ALARMS = ("offline", "paper_out", "cover_open")  # station.alerts.PRINTER_ALARMS
CHANNELS = {"screen": "屏幕", "voice": "语音", "light": "指示灯"}


def label(table: dict, value: object) -> str:
    """The label for `value`, or the value itself (never an empty cell) when it is not known."""
    if value is None:
        return "—"
    return table.get(value, str(value))


def local_time(moment: datetime | None, fmt: str = "%m-%d %H:%M:%S") -> str:
    """A UTC timestamp as China time."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime(fmt)


def duration(seconds: float | None) -> str:
    """'45 秒', '3 分 12 秒', '2 小时 5 分', '3 天 4 小时'."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} 秒"
    if s < 3600:
        return f"{s // 60} 分 {s % 60} 秒"
    if s < 86400:
        return f"{s // 3600} 小时 {s % 3600 // 60} 分"
    return f"{s // 86400} 天 {s % 86400 // 3600} 小时"


def start_of_today(now: datetime) -> datetime:
    """Midnight, China time, of the day `now` falls in, as UTC."""
    local = now.astimezone(CHINA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def fen(amount: int | None) -> str:
    """Money in fen as yuan: 8900 -> '¥89.00'."""
    return "—" if amount is None else f"¥{amount / 100:.2f}"


def filesize(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1_048_576:.0f} MB"
