"""Test kit for the station's tests (imported by conftest.py and the test modules).

`GateServer` is a SMALL real loopback HTTP server speaking the station side of shipgate.wire
(scans with scan_id idempotency, batch upload, gate feed paging, heartbeat, bearer token): a test
double for the station's unit tests until the real server exists. It is not the server.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from shipgate.codes import classify
from shipgate.wire import Decision, Reason, ScanAnswer, Waybill, message_for
from station.bench import Bench
from station.client import GateClient
from station.journal import Journal
from station.printer import DeviceSpec, SlipPrinter, device_factory
from station.replica import Replica
from station.uplink import Uplink

TOKEN = "station-test-token"
ORDER_REFUNDED = "6920000000000000001"
ORDER_OK = "6920000000000000002"
ORDER_PARTIAL = "6920000000000000003"
SKU_PARTIAL_OUT = "6920000000000000013"
TRACKING_OK = "SF1234567890123"
TRACKING_REFUNDED = "YT1234567890123"
GOODS_PARTIAL_OUT = "蓝色T恤 L（编码 TS-BL-L）×1"  # how the server names SKU_PARTIAL_OUT (server.goods)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like waitress
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _route(self, method: str) -> None:
        gate: GateServer = self.server.gate
        body = self._body() if method == "POST" else None
        if self.headers.get("Authorization") != f"Bearer {gate.token}":
            return self._send(401, {"error": "bad_token", "message": "令牌无效"})
        url = urlparse(self.path)
        status, answer = gate.dispatch(method, url.path, parse_qs(url.query), body)
        self._send(status, answer)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    gate: GateServer
    connections: set

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (budget spent) and closed: expected in these tests


HOLD_MAX_S = 10.0  # how long a held request waits at most (GateServer.hold)


@dataclass
class GateServer:
    """The wire contract, minimally, in memory. Start/stop it to play a server outage."""

    token: str = TOKEN
    port: int = 0
    entries: dict[str, dict] = field(default_factory=dict)
    waybills: dict[str, dict] = field(default_factory=dict)
    forward_reports: list[dict] = field(default_factory=list)
    scans: dict[str, dict] = field(default_factory=dict)  # scan_id -> stored answer (idempotency)
    received: list[str] = field(default_factory=list)  # every scan_id received, duplicates too
    requests: list[dict] = field(default_factory=list)  # every scan received (online or batch)
    batches: list[int] = field(default_factory=list)  # sizes of the batches answered
    batch_arrivals: int = 0  # batches received, counted before the delay
    heartbeats: list[dict] = field(default_factory=list)
    station_name: str = "打包台-07"  # the name the token was enrolled with
    version: int = 0
    delay_s: float = 0.0
    # When set: every request waits until it is set (at most HOLD_MAX_S), then is answered as usual,
    # i.e. a server that does not answer within any budget a station has.
    hold: threading.Event | None = None
    status_override: int | None = None
    _http: _HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GateServer:
        self._http = _HTTPServer(("127.0.0.1", self.port), _Handler)
        self._http.gate = self
        self._http.connections = set()
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """An outage: stop listening and drop the kept-alive connections too."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            for conn in list(self._http.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._http = None

    def put(self, order_id: str, decision: Decision, reason: Reason, codes=(), sku_out=()) -> None:
        self.version += 1
        self.entries[order_id] = {
            "order_id": order_id,
            "decision": decision.value,
            "reason": reason.value,
            "sku_order_ids_out": list(sku_out),
            "codes": list(codes),
            "version": self.version,
        }

    def seed(self) -> None:
        self.put(ORDER_REFUNDED, Decision.BLOCK, Reason.REFUNDED, [TRACKING_REFUNDED, "6920000000000000011"])
        self.put(ORDER_OK, Decision.PASS, Reason.CLEAR, [TRACKING_OK, "6920000000000000012"])
        self.put(ORDER_PARTIAL, Decision.HOLD, Reason.PARTIAL_REFUND, [SKU_PARTIAL_OUT], [SKU_PARTIAL_OUT])
        self.waybills[ORDER_OK] = {
            "tracking_no": TRACKING_OK,
            "company": "顺丰速运",
            "order_id": ORDER_OK,
            "items": [{"sku_order_id": "6920000000000000012", "name": "蓝色T恤 L", "code": None, "num": 1}],
        }

    def resolve(self, code: str) -> dict | None:
        for entry in self.entries.values():
            if code == entry["order_id"] or code in entry["codes"]:
                return entry
        return None

    def decide(self, scan: dict) -> dict:
        code = classify(scan["code"])
        entry = self.resolve(code.value) if code.valid else None
        if not code.valid:
            decision, reason, sku_out = Decision.HOLD, Reason.INVALID_CODE, []
        elif entry is None:
            decision, reason, sku_out = Decision.HOLD, Reason.UNKNOWN_ORDER, []
        else:
            decision, reason = Decision(entry["decision"]), Reason(entry["reason"])
            sku_out = entry["sku_order_ids_out"]
        order_id = entry["order_id"] if entry else None
        passed = decision is Decision.PASS
        return ScanAnswer(
            scan_id=scan["scan_id"],
            decision=decision,
            reason=reason,
            message=message_for(reason, sku_out),
            order_id=order_id,
            sku_order_ids_out=tuple(sku_out),
            gate_version=self.version,
            decided_at=datetime(2024, 5, 1, tzinfo=UTC),
            exception_id=None if passed else len(self.scans) + 1,
            waybill=Waybill.from_json(self.waybills.get(order_id)) if passed else None,
            items_out=tuple(GOODS_PARTIAL_OUT for _ in sku_out) if reason is Reason.PARTIAL_REFUND else (),
        ).to_json()

    def dispatch(self, method: str, path: str, query: dict, body: Any) -> tuple[int, dict]:
        if self.status_override is not None:
            return self.status_override, {"error": "boom", "message": "服务器错误"}
        if path == "/api/v1/scans/batch":
            self.batch_arrivals += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.hold is not None:
            self.hold.wait(HOLD_MAX_S)
        if method == "POST" and path == "/api/v1/scans":
            self.received.append(body["scan_id"])
            self.requests.append(body)
            answer = self.scans.setdefault(body["scan_id"], self.decide(body))
            return 200, answer
        if method == "POST" and path == "/api/v1/scans/batch":
            scans = body.get("scans")
            if not isinstance(scans, list) or not 0 < len(scans) <= 500:
                return 400, {"error": "bad_batch", "message": "批量格式错误"}
            self.batches.append(len(scans))
            results = []
            for scan in scans:
                self.received.append(scan["scan_id"])
                self.requests.append(scan)
                duplicate = scan["scan_id"] in self.scans
                answer = self.scans.setdefault(scan["scan_id"], self.decide(scan))
                results.append(
                    answer
                    | {
                        "station_decision": scan["station_decision"],
                        "station_reason": scan["station_reason"],
                        "duplicate": duplicate,
                    }
                )
            return 200, {"results": results}
        if method == "GET" and path == "/api/v1/gate":
            since, limit = int(query["since"][0]), int(query.get("limit", ["500"])[0])
            newer = sorted(
                (e for e in self.entries.values() if e["version"] > since), key=lambda e: e["version"]
            )
            page = newer[:limit]
            more = len(newer) > limit
            nxt = page[-1]["version"] if page else max(since, self.version)
            return 200, {"version": self.version, "entries": page, "next": nxt, "more": more}
        if method == "POST" and path == "/api/v1/scans/forwarding":  # the inline gate
            self.forward_reports.extend(body["reports"])
            results = [
                {"scan_id": r["scan_id"], "stored": r["scan_id"] in self.scans,
                 "error": None if r["scan_id"] in self.scans else "unknown_scan"}
                for r in body["reports"]
            ]  # fmt: skip
            return 200, {"results": results}
        if method == "POST" and path == "/api/v1/heartbeat":
            self.heartbeats.append(body)
            reply = {"ok": True, "server_time": "2024-05-01T00:00:00Z", "gate_version": self.version}
            return 200, {**reply, "station": self.station_name}
        return 404, {"error": "not_found", "message": "无此接口"}


class FakeClock:
    """Wall-clock seconds that only move when told to."""

    def __init__(self, now: float = 1_714_521_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def network_printer(port: int, **options) -> SlipPrinter:
    spec = DeviceSpec(kind="network", host="127.0.0.1", port=port, timeout_s=1.0)
    return SlipPrinter(device_factory(spec), description=spec.describe(), **options)


@dataclass
class BenchParts:
    bench: Bench
    client: GateClient
    replica: Replica
    journal: Journal
    printer: SlipPrinter
    uplink: Uplink
    data_dir: Path


def in_order(data: bytes, *parts: bytes) -> bool:
    """Each part occurs in data after the previous one."""
    position = 0
    for part in parts:
        found = data.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


# -- a keyboard (HID) scanner without a kernel: synthetic evdev events ---------------------------

_SHIFTED = set('ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()_+{}|:"~<>?')


def keystrokes(text: str, end: int | None = None, shift: int | None = None) -> list[tuple[int, int]]:
    """(code, value) key events a scanner sends for text: Shift around capitals, press and release
    each key, then Enter (or `end`)."""
    from evdev import ecodes as e

    end = e.KEY_ENTER if end is None else end
    shift = e.KEY_LEFTSHIFT if shift is None else shift
    keys = {
        **{c: getattr(e, f"KEY_{c.upper()}") for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
        "-": e.KEY_MINUS,
    }
    events = []
    for ch in text:
        code = keys[ch.lower()]
        if ch in _SHIFTED:
            events.append((shift, 1))
        events += [(code, 1), (code, 0)]
        if ch in _SHIFTED:
            events.append((shift, 0))
    return events + [(end, 1), (end, 0)]


class FakeInputDevice:
    """What evdev.InputDevice offers the HID reader: fd (select), read(), grab()/ungrab(), close()."""

    def __init__(self, name: str = "fake scanner") -> None:
        self.name = name
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self.fd = self._r
        self._events: deque = deque()
        self._lock = threading.Lock()
        self.grabbed = False
        self.gone = False
        self.closed = False

    def type(self, events: list[tuple[int, int]]) -> None:
        from evdev import InputEvent, ecodes

        with self._lock:
            for code, value in events:
                self._events.append(InputEvent(0, 0, ecodes.EV_KEY, code, value))
                self._events.append(InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
        os.write(self._w, b"x")

    def unplug(self) -> None:
        self.gone = True
        os.write(self._w, b"x")

    def read(self):
        with contextlib.suppress(BlockingIOError):
            os.read(self._r, 4096)
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        with self._lock:
            events, self._events = list(self._events), deque()
        if not events:
            raise BlockingIOError
        return iter(events)

    def grab(self) -> None:
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = True

    def ungrab(self) -> None:
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._r)
            os.close(self._w)
