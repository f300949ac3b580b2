"""The station API (see shipgate.wire for the contract). Views only parse, call and answer."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from server import handover
from server.db import get_session, raw_cursor
from server.errors import ApiError, InvalidField, MalformedJson, Unauthorized
from server.gatestate import current_version
from server.incidents import detect
from server.metrics import SCAN_SECONDS, SCANS
from server.models import GateEntry, Scan, Station, utcnow, warehouse_shops
from server.scanclock import ScanClock, SentClock
from server.scans import ScanRequest
from shipgate.wire import BATCH_LIMIT, Decision, Reason, ScanMode

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CHINA = timezone(timedelta(hours=8), "CST")
SCAN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CODE = 512
FEED_LIMIT = 5000
ASCII_DIGITS = re.compile(r"^[0-9]{1,18}$")
# What a station may report having decided on its own (station.decision.LocalReason).
LOCAL_REASONS = frozenset({"disk_full", "journal_error"})
LOCAL_REASONS |= {"no_alarm"}  # station.decision.LocalReason.NO_ALARM: nothing could announce a BLOCK


@bp.before_request
def require_station() -> None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise Unauthorized("缺少工作站令牌", error="missing_token")
    station = current_app.extensions["shipgate.auth"](raw_cursor(), header[7:].strip())
    if station is None:
        raise Unauthorized()
    g.station = station


@bp.post("/scans")
def post_scan():
    """Decide one scan online."""
    scan_request = parse_scan(json_body(), offline=False)
    started = time.perf_counter()
    answer, _duplicate = current_app.extensions["shipgate.gate"].record(raw_cursor(), g.station, scan_request)
    SCAN_SECONDS.observe(time.perf_counter() - started)
    SCANS.labels(answer["decision"], answer["reason"], "online").inc()
    del answer["station_decision"], answer["station_reason"]
    return jsonify(answer)


@bp.post("/scans/batch")
def post_batch():
    """Store scans a station decided offline, each once, answering with the server's decision."""
    body = json_body()
    expect_fields(body, required={"scans"}, optional=SENT_CLOCK_FIELDS)
    sent = parse_sent_clock(body)
    items = body["scans"]
    if not isinstance(items, list) or not items:
        raise InvalidField("scans 必须是非空数组")
    if len(items) > BATCH_LIMIT:
        raise InvalidField(f"一次最多上传 {BATCH_LIMIT} 条", error="batch_too_large")
    requests = [
        parse_scan(item, offline=True, where=f"scans[{i}]", sent=sent) for i, item in enumerate(items)
    ]
    gate, cursor = current_app.extensions["shipgate.gate"], raw_cursor()
    results = []
    for scan_request in requests:
        answer, duplicate = gate.record(cursor, g.station, scan_request)
        if not duplicate:
            SCANS.labels(answer["decision"], answer["reason"], "offline").inc()
        answer["duplicate"] = duplicate
        results.append(answer)
    open_incidents_for_offline_passes(requests, results)
    return jsonify(results=results)


def open_incidents_for_offline_passes(requests: list[ScanRequest], results: list[dict]) -> None:
    """A station that passed a parcel offline which the server says is refunded: it may have
    shipped. That is a shipped-after-refund incident, opened at once."""
    late = [
        (r, a)
        for r, a in zip(requests, results, strict=True)
        if not a["duplicate"] and r.station_decision == "PASS" and a["decision"] == "BLOCK" and a["order_id"]
    ]
    if not late:
        return
    session = get_session()
    for scan_request, answer in late:
        scan = session.scalar(
            select(Scan).where(Scan.station_id == g.station.id, Scan.scan_id == scan_request.scan_id)
        )
        detect.open_for_offline_pass(session, answer["order_id"], scan)
    session.commit()


@bp.get("/gate")
def gate_feed():
    """The replica feed: entries changed after `since`, oldest first, paged."""
    since = int_arg("since", 0, minimum=0)
    limit = int_arg("limit", 1000, minimum=1, maximum=FEED_LIMIT)
    session = get_session()
    version = current_version(session)  # read first: nothing at or below it can still appear
    query = select(GateEntry).where(GateEntry.version > since, GateEntry.version <= version)
    shops = session.scalars(
        select(warehouse_shops.c.shop_id).where(warehouse_shops.c.warehouse_id == g.station.warehouse_id)
    ).all()
    if shops:  # a warehouse linked to shops sees only theirs; an unlinked one sees all
        query = query.where(GateEntry.shop_id.in_(shops))
    entries = session.scalars(query.order_by(GateEntry.version).limit(limit + 1)).all()
    more = len(entries) > limit
    entries = entries[:limit]
    return jsonify(
        version=version,
        entries=[
            {
                "order_id": e.order_id,
                "decision": e.decision,
                "reason": e.reason,
                "sku_order_ids_out": list(e.sku_out),
                "codes": list(e.codes),
                "version": e.version,
            }
            for e in entries
        ],
        next=entries[-1].version if more else max(since, version),
        more=more,
    )


@bp.get("/manifest")
def manifest():
    """The handover manifest (交接单) of a day (China time) for the station's warehouse, per courier."""
    raw = request.args.get("date", "")
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date() if raw else utcnow().astimezone(CHINA).date()
    except ValueError as exc:
        raise InvalidField("参数 date 必须是 YYYY-MM-DD") from exc
    start = datetime.combine(day, datetime.min.time(), CHINA)
    pickups = handover.manifest(get_session(), g.station.warehouse_id, start, start + timedelta(days=1))
    return jsonify(
        date=day.isoformat(),
        pickups=[
            {
                "courier": p.courier,
                "count": p.count,
                "lines": [
                    {
                        "scanned_at": line.scanned_at.isoformat(),
                        "code": line.code,
                        "order_id": line.order_id,
                        "station": line.station,
                        "operator": line.operator,
                    }  # fmt: skip
                    for line in p.lines
                ],
            }
            for p in pickups
        ],
    )


HEARTBEAT_FIELDS = {
    "software_version": str,
    "replica_version": int,
    "replica_age_s": (int, float, type(None)),
    "scanner": str,
    "printer": str,
    "queue_depth": int,
    "rss_bytes": int,
    "mode": str,
    "operator": (str, type(None)),
    "display": (str, type(None)),
}
# station.service.alert_health: the bench's alert channels, its clock and its disk writes
HEARTBEAT_FIELDS |= {
    "screen": str,
    "voice": str,
    "light": str,
    "clock_synced": str,
    "disk_written_bytes": int,
}


@bp.post("/heartbeat")
def heartbeat():
    """Station health: stored on the station row for the floor view."""
    body = json_body()
    expect_fields(body, optional=set(HEARTBEAT_FIELDS))
    for name, kinds in HEARTBEAT_FIELDS.items():
        if name in body and (not isinstance(body[name], kinds) or isinstance(body[name], bool)):
            raise InvalidField(f"{name} 类型不正确")
        if isinstance(body.get(name), str) and (len(body[name]) > 200 or not clean_text(body[name])):
            raise InvalidField(f"{name} 过长或含有无效字符")
    session = get_session()
    station = session.get(Station, g.station.id)
    station.health = body
    station.last_seen_at = utcnow()
    session.commit()
    return jsonify(
        ok=True, server_time=utcnow().isoformat(), gate_version=current_version(session),
        station=g.station.name,  # the name it was enrolled with: [station] name is optional
    )  # fmt: skip


# --- parsing -------------------------------------------------------------------------------


def json_body() -> dict:
    if not request.is_json:
        raise ApiError("请使用 Content-Type: application/json", error="unsupported_media_type", status=415)
    try:
        body = json.loads(request.get_data(cache=False), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson() from exc
    if not isinstance(body, dict):
        raise MalformedJson("请求体必须是 JSON 对象")
    return body


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def clean_text(value: object) -> bool:
    """A string a database can store: no NUL, no lone surrogate."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def expect_fields(
    body: dict, *, required: set[str] = frozenset(), optional: set[str] = frozenset(), where=""
):
    prefix = f"{where}." if where else ""
    unknown = sorted(set(body) - required - optional)
    if unknown:
        raise InvalidField(f"未知字段：{prefix}{unknown[0]}", error="unknown_field")
    missing = sorted(required - set(body))
    if missing:
        raise InvalidField(f"缺少字段：{prefix}{missing[0]}", error="missing_field")


SCAN_CLOCK_FIELDS = {"clock_synced", "boot_id", "mono_s"}  # station.timesync.ClockFacts
SENT_CLOCK_FIELDS = {"sent_boot_id", "sent_mono_s"}


def _boot_id(value: object, name: str) -> str | None:
    if value is None or (isinstance(value, str) and 1 <= len(value) <= 64 and clean_text(value)):
        return value
    raise InvalidField(f"{name} 必须是不超过 64 个字符的字符串")


def _mono(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e10:
        raise InvalidField(f"{name} 必须是非负秒数")
    return float(value)


def parse_scan_clock(item: dict, prefix: str) -> ScanClock:
    synced = item.get("clock_synced")
    if synced is not None and not isinstance(synced, bool):
        raise InvalidField(f"{prefix}clock_synced 必须是 true、false 或 null")
    boot = _boot_id(item.get("boot_id"), f"{prefix}boot_id")
    return ScanClock(synced, boot, _mono(item.get("mono_s"), f"{prefix}mono_s"))


def parse_sent_clock(body: dict) -> SentClock:
    return SentClock(
        _boot_id(body.get("sent_boot_id"), "sent_boot_id"), _mono(body.get("sent_mono_s"), "sent_mono_s")
    )


def parse_scan(item: object, *, offline: bool, where: str = "", sent: SentClock | None = None) -> ScanRequest:
    prefix = f"{where}." if where else ""
    if not isinstance(item, dict):
        raise InvalidField(f"{where or '请求'} 必须是 JSON 对象")
    required = {"scan_id", "code", "scanned_at"}
    optional = {"operator", "mode"}
    optional |= SCAN_CLOCK_FIELDS
    if offline:
        required |= {"station_decision", "station_reason"}
        optional |= {"station_gate_version"}
    expect_fields(item, required=required, optional=optional, where=where)
    scan_id, code = item["scan_id"], item["code"]
    if not isinstance(scan_id, str) or not SCAN_ID.match(scan_id):
        raise InvalidField(f"{prefix}scan_id 必须是 1–64 位字母、数字或 _.:-")
    if not clean_text(code) or len(code) > MAX_CODE:
        raise InvalidField(f"{prefix}code 必须是不超过 {MAX_CODE} 个字符的字符串（不含 NUL）")
    operator = item.get("operator")
    if operator is not None and (not clean_text(operator) or len(operator) > 48):
        raise InvalidField(f"{prefix}operator 必须是不超过 48 个字符的字符串")
    mode = item.get("mode", ScanMode.BENCH.value)
    if not isinstance(mode, str) or mode not in {m.value for m in ScanMode}:
        raise InvalidField(f"{prefix}mode 必须是 bench 或 handover")
    scanned_at = parse_time(item["scanned_at"], f"{prefix}scanned_at")
    station_decision = station_reason = station_version = None
    if offline:
        station_decision, station_reason = item["station_decision"], item["station_reason"]
        if not isinstance(station_decision, str) or station_decision not in {d.value for d in Decision}:
            raise InvalidField(f"{prefix}station_decision 必须是 PASS、BLOCK 或 HOLD")
        if not isinstance(station_reason, str) or (
            station_reason not in {r.value for r in Reason} and station_reason not in LOCAL_REASONS
        ):
            raise InvalidField(f"{prefix}station_reason 未知：{str(station_reason)[:32]}")
        station_version = item.get("station_gate_version")
        if station_version is not None and (
            not isinstance(station_version, int) or isinstance(station_version, bool) or station_version < 0
        ):
            raise InvalidField(f"{prefix}station_gate_version 必须是非负整数")
    return ScanRequest(
        scan_id=scan_id,
        code=code,
        scanned_at=scanned_at,
        operator=operator,
        mode=mode,
        station_decision=station_decision,
        station_reason=station_reason,
        station_gate_version=station_version,
        clock=parse_scan_clock(item, prefix),
        sent=sent if offline else None,
    )


def parse_time(value: object, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidField(f"{name} 必须是 ISO 8601 时间字符串")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidField(f"{name} 不是有效的 ISO 8601 时间") from exc
    if parsed.tzinfo is None:
        raise InvalidField(f"{name} 必须带时区")
    if not 2000 <= parsed.year <= 2999:
        raise InvalidField(f"{name} 的年份不合理")
    return parsed


def int_arg(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not ASCII_DIGITS.match(raw):
        raise InvalidField(f"参数 {name} 必须是非负整数")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise InvalidField(f"参数 {name} 超出范围")
    return value
