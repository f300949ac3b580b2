"""The server's station API (see shipgate.wire) over one keep-alive httpx.Client.

Every call has a deadline: a scan gets the bench budget (default 300 ms) for everything,
retry included; sync calls (feed, batch, heartbeat) get `sync_timeout_s`. Retries happen only
where safe: a scan or a batch may be sent again because the server is idempotent on scan_id,
the feed is a GET; a heartbeat is retried only when the connection could not be made.
Errors are typed: `Unauthorized` (wrong token) is not `ServerUnreachable` (server down).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from shipgate.wire import API_PREFIX, BATCH_LIMIT, Decision
from station.decision import Waybill
from station.timesync import sent_clock

log = logging.getLogger(__name__)

_MIN_RETRY_S = 0.02  # do not start a retry with less budget than this


class GateError(Exception):
    """Talking to the server failed."""


class ServerUnreachable(GateError):
    """No usable answer: connection refused/reset, timeout, or a 5xx."""


class Unauthorized(GateError):
    """The server refused our token (401/403): a configuration problem, not an outage."""


class Rejected(GateError):
    """The server understood and refused the request (a 4xx other than 401/403)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


class BadResponse(GateError):
    """A 2xx whose body does not follow the wire contract."""


@dataclass(frozen=True)
class ScanResult:
    scan_id: str
    decision: Decision
    reason: str
    message: str
    order_id: str | None
    sku_order_ids: tuple[str, ...]
    gate_version: int | None
    decided_at: str | None
    exception_id: str | None
    waybill: Waybill | None
    items_out: tuple[str, ...] = ()  # partial_refund: the goods to take out, by name


@dataclass(frozen=True)
class BatchResult:
    result: ScanResult
    duplicate: bool


@dataclass(frozen=True)
class ScanUpload:
    """One offline-decided scan for POST /api/v1/scans/batch."""

    scan_id: str
    code: str
    operator: str | None
    scanned_at: str
    mode: str
    station_decision: str
    station_reason: str
    station_gate_version: int | None
    clock_synced: bool | None = None  # the scan's clock (station.timesync)
    boot_id: str | None = None
    mono_s: float | None = None


@dataclass(frozen=True)
class GateEntry:
    order_id: str
    decision: Decision
    reason: str
    sku_order_ids_out: tuple[str, ...]
    codes: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class GateFeed:
    version: int
    entries: tuple[GateEntry, ...]
    next: int
    more: bool


@dataclass(frozen=True)
class HeartbeatReply:
    ok: bool
    server_time: str | None
    gate_version: int | None
    station: str | None = None  # the name the station was enrolled with


class GateClient:
    """The station's side of the wire contract. Thread-safe (httpx.Client is)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        budget_s: float = 0.3,
        sync_timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "shipgate-station",
    ) -> None:
        self.budget_s = budget_s
        self.sync_timeout_s = sync_timeout_s
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PREFIX,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent},
            transport=transport,
            timeout=sync_timeout_s,
            trust_env=False,  # a station talks to its own server; no proxy from the environment
        )

    def close(self) -> None:
        self._http.close()

    def scan(
        self, scan_id: str, code: str, operator: str | None, scanned_at: str, mode: str, clock: Any = None
    ) -> ScanResult:
        body = {
            "scan_id": scan_id,
            "code": code,
            "operator": operator,
            "scanned_at": scanned_at,
            "mode": mode,
        }
        body.update(clock.wire() if clock is not None else {})  # station.timesync.ClockFacts
        data = self._call("POST", "/scans", self.budget_s, retry="any", json=body)
        return _parse(_scan_result, data)

    def upload_batch(self, scans: Sequence[ScanUpload]) -> list[BatchResult]:
        if not 0 < len(scans) <= BATCH_LIMIT:
            raise ValueError(f"a batch holds 1..{BATCH_LIMIT} scans (got {len(scans)})")
        body = {"scans": [asdict(s) for s in scans], **sent_clock()}
        data = self._call("POST", "/scans/batch", self.sync_timeout_s, retry="any", json=body)
        return _parse(_batch_results, data)

    def gate_feed(self, since: int, limit: int = 500) -> GateFeed:
        params = {"since": since, "limit": limit}
        data = self._call("GET", "/gate", self.sync_timeout_s, retry="any", params=params)
        return _parse(_gate_feed, data)

    def manifest(self, day: str | None = None) -> dict[str, Any]:
        """The handover manifest of a day (YYYY-MM-DD, default today) as the server has it."""
        params = {"date": day} if day else {}
        return self._call("GET", "/manifest", self.sync_timeout_s, retry="any", params=params)

    def heartbeat(self, payload: dict[str, Any]) -> HeartbeatReply:
        data = self._call("POST", "/heartbeat", self.sync_timeout_s, retry="connect", json=payload)
        return _parse(_heartbeat, data)

    def _call(self, method: str, path: str, budget_s: float, *, retry: str, **kwargs: Any) -> Any:
        deadline = time.monotonic() + budget_s
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            try:
                response = self._http.request(
                    method, path, timeout=httpx.Timeout(max(remaining, 0.001)), **kwargs
                )
            except httpx.TransportError as exc:
                retryable = retry == "any" or isinstance(exc, httpx.ConnectError)
                if attempt == 1 and retryable and deadline - time.monotonic() >= _MIN_RETRY_S:
                    log.debug("%s %s: %s; retrying once", method, path, exc)
                    continue
                raise ServerUnreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            return _check(method, path, response)


def _check(method: str, path: str, response: httpx.Response) -> Any:
    status = response.status_code
    if status in (401, 403):
        raise Unauthorized(f"{method} {path}: {status} {_error_text(response)}")
    if status >= 500:
        raise ServerUnreachable(f"{method} {path}: {status} {_error_text(response)}")
    if status >= 400:
        error, message = _error_fields(response)
        raise Rejected(status, error, message)
    if status >= 300:
        raise BadResponse(f"{method} {path}: unexpected status {status}")
    try:
        return response.json()
    except ValueError as exc:
        raise BadResponse(f"{method} {path}: body is not JSON") from exc


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body.get("error", "error")), str(body.get("message", ""))
    except (ValueError, AttributeError):
        return "error", response.text[:200]


def _error_text(response: httpx.Response) -> str:
    error, message = _error_fields(response)
    return f"{error} {message}".strip()


def _parse(parser, data: Any):
    try:
        return parser(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(f"response does not follow the wire contract: {type(exc).__name__}: {exc}") from exc


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _strings(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        raise TypeError("expected a list")
    return tuple(str(v) for v in values)


def _waybill(data: Any) -> Waybill | None:
    """The server's label: {"tracking_no", "company", "order_id", "items": [{"name", "num", ...}]}."""
    if not isinstance(data, dict):
        return None
    tracking = data.get("tracking_no")
    if not tracking:
        return None
    return Waybill(
        tracking_no=str(tracking),
        carrier=_opt_str(data.get("company") or data.get("carrier")),
        sort_code=_opt_str(data.get("sort_code")),
        items=tuple(_item(i) for i in data.get("items") or ()),
    )


def _item(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    name = str(item.get("name") or item.get("sku_order_id") or "")
    num = item.get("num")
    return f"{name} ×{num}" if num is not None else name


def _scan_result(data: dict[str, Any]) -> ScanResult:
    return ScanResult(
        scan_id=str(data["scan_id"]),
        decision=Decision(data["decision"]),
        reason=str(data["reason"]),
        message=str(data.get("message") or ""),
        order_id=_opt_str(data.get("order_id")),
        sku_order_ids=_strings(data.get("sku_order_ids")),
        gate_version=_opt_int(data.get("gate_version")),
        decided_at=_opt_str(data.get("decided_at")),
        exception_id=_opt_str(data.get("exception_id")),
        waybill=_waybill(data.get("waybill")),
        items_out=_strings(data.get("items_out")),
    )


def _batch_results(data: dict[str, Any]) -> list[BatchResult]:
    return [BatchResult(_scan_result(item), bool(item.get("duplicate", False))) for item in data["results"]]


def _gate_entry(data: dict[str, Any]) -> GateEntry:
    order_id = data["order_id"]
    if not isinstance(order_id, str):  # 19-digit ids are strings end to end (> 2^53)
        raise TypeError("order_id must be a string")
    return GateEntry(
        order_id=order_id,
        decision=Decision(data["decision"]),
        reason=str(data["reason"]),
        sku_order_ids_out=_strings(data.get("sku_order_ids_out")),
        codes=_strings(data.get("codes")),
        version=int(data["version"]),
    )


def _gate_feed(data: dict[str, Any]) -> GateFeed:
    entries = tuple(_gate_entry(e) for e in data["entries"])
    return GateFeed(
        version=int(data["version"]), entries=entries, next=int(data["next"]), more=bool(data["more"])
    )


def _heartbeat(data: dict[str, Any]) -> HeartbeatReply:
    return HeartbeatReply(
        ok=bool(data.get("ok")),
        server_time=_opt_str(data.get("server_time")),
        gate_version=_opt_int(data.get("gate_version")),
        station=_opt_str(data.get("station")),
    )
