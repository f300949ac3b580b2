"""The station API (see shipgate.wire for the contract). Views only parse, call and answer."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from server import clock, forwarding, handover, jsonbody
from server.db import get_session, raw_cursor
from server.errors import ApiError, InvalidField, MalformedJson, Unauthorized
from server.gatestate import current_version
from server.incidents import detect
from server.metrics import SCAN_SECONDS, count_scan
from server.models import GateEntry, Scan, Station
from server.replies import json_reply
from server.stations import serves_shop
from shipgate import wire
from shipgate.wire import (
    BatchAnswer,
    BatchRequest,
    BatchResult,
    Decision,
    ForwardingAnswer,
    ForwardingRequest,
    GateFeed,
    Heartbeat,
    HeartbeatReply,
    ScanRequest,
    Source,
    WireError,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CHINA = timezone(timedelta(hours=8), "CST")
FEED_LIMIT = 5000
ASCII_DIGITS = re.compile(r"^[0-9]{1,18}$")


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
    scan_request = parsed(ScanRequest.from_json, json_body(), offline=False)
    started = time.perf_counter()
    answer, _duplicate = current_app.extensions["shipgate.gate"].record(raw_cursor(), g.station, scan_request)
    SCAN_SECONDS.observe(time.perf_counter() - started)
    count_scan(answer.decision.value, answer.reason.value, Source.ONLINE.value)
    return json_reply(answer.to_json())


@bp.post("/scans/batch")
def post_batch():
    """Store scans a station decided offline, each once, answering with the server's decision."""
    batch = parsed(BatchRequest.from_json, json_body())
    gate, cursor = current_app.extensions["shipgate.gate"], raw_cursor()
    results = []
    for scan_request in batch.scans:
        answer, duplicate = gate.record(cursor, g.station, scan_request, sent=batch.sent)
        if not duplicate:
            count_scan(answer.decision.value, answer.reason.value, Source.OFFLINE.value)
        results.append(
            BatchResult(answer, scan_request.station_decision, scan_request.station_reason, duplicate)
        )
    open_incidents_for_offline_passes(batch.scans, results)
    return jsonify(BatchAnswer(tuple(results)).to_json())


def open_incidents_for_offline_passes(requests, results: list[BatchResult]) -> None:
    """A station that passed a parcel offline which the server says is refunded: it may have
    shipped. That is a shipped-after-refund incident, opened at once."""
    late = [
        (r, a.answer)
        for r, a in zip(requests, results, strict=True)
        if not a.duplicate
        and r.station_decision is Decision.PASS
        and a.answer.decision is Decision.BLOCK
        and a.answer.order_id
    ]
    if not late:
        return
    session = get_session()
    for scan_request, answer in late:
        scan = session.scalar(
            select(Scan).where(Scan.station_id == g.station.id, Scan.scan_id == scan_request.scan_id)
        )
        detect.open_for_offline_pass(session, answer.order_id, scan)
    session.commit()


@bp.get("/gate")
def gate_feed():
    """The replica feed: entries changed after `since`, oldest first, paged."""
    since = int_arg("since", 0, minimum=0)
    limit = int_arg("limit", 1000, minimum=1, maximum=FEED_LIMIT)
    session = get_session()
    version = current_version(session)  # read first: nothing at or below it can still appear
    query = select(GateEntry).where(GateEntry.version > since, GateEntry.version <= version)
    query = query.where(serves_shop(g.station.warehouse_id, GateEntry.shop_id))
    entries = session.scalars(query.order_by(GateEntry.version).limit(limit + 1)).all()
    more = len(entries) > limit
    entries = entries[:limit]
    feed = GateFeed(
        version=version,
        entries=tuple(
            wire.GateEntry(
                e.order_id,
                Decision(e.decision),
                wire.Reason(e.reason),
                tuple(e.sku_out),
                tuple(e.codes),
                e.version,
            )
            for e in entries
        ),
        next=entries[-1].version if more else max(since, version),
        more=more,
    )
    return jsonify(feed.to_json())


@bp.get("/manifest")
def manifest():
    """The handover manifest (交接单) of a day (China time) for the station's warehouse, per courier."""
    raw = request.args.get("date", "")
    try:
        day = (
            datetime.strptime(raw, "%Y-%m-%d").date()
            if raw
            else clock.current().now().astimezone(CHINA).date()
        )
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


@bp.post("/heartbeat")
def heartbeat():
    """Station health: stored on the station row for the floor view."""
    beat = parsed(Heartbeat.from_json, json_body())
    session = get_session()
    station = session.get(Station, g.station.id)
    station.health = beat.to_json()
    station.last_seen_at = now = clock.current().now()
    session.commit()
    reply = HeartbeatReply(
        True, now, current_version(session), station=g.station.name
    )  # [station] name is optional
    return jsonify(reply.to_json())


# --- the inline gate: did each PASS reach the packing PC (server/forwarding.py) ---------------


@bp.post("/scans/forwarding")
def post_forwarding():
    """Whether the station typed each PASS into the packing PC; stored on the station's own scans."""
    reports = parsed(ForwardingRequest.from_json, json_body()).reports
    answers = forwarding.record(get_session(), g.station.id, reports)
    return jsonify(ForwardingAnswer(tuple(answers)).to_json())


# --- parsing -------------------------------------------------------------------------------


def json_body() -> dict:
    if not request.is_json:
        raise ApiError("请使用 Content-Type: application/json", error="unsupported_media_type", status=415)
    try:
        return jsonbody.decode(request.get_data(cache=False), expect=dict)
    except jsonbody.JsonRefused as exc:
        raise MalformedJson(exc.message, error=exc.error) from exc


def parsed(parse, body, **options):
    """A wire body parsed (shipgate.wire), its contract error refused as a specific 4xx."""
    try:
        return parse(body, **options)
    except WireError as exc:
        raise InvalidField(exc.message, error=exc.error) from exc


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
