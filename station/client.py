"""The server's station API (see shipgate.wire) over one keep-alive httpx.Client.

Every call has a deadline: a scan gets the bench budget (default 300 ms) for everything,
retry included; sync calls (feed, batch, heartbeat) get `sync_timeout_s`. Retries happen only
where safe: a scan or a batch may be sent again because the server is idempotent on scan_id,
the feed is a GET; a heartbeat is retried only when the connection could not be made.
Errors are typed: `Unauthorized` (wrong token) is not `ServerUnreachable` (server down).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from shipgate.wire import (
    API_PREFIX,
    BATCH_LIMIT,
    BatchAnswer,
    BatchRequest,
    BatchResult,
    ForwardAnswer,
    ForwardingAnswer,
    ForwardingRequest,
    ForwardReport,
    GateEntry,
    GateFeed,
    Heartbeat,
    HeartbeatReply,
    ScanAnswer,
    ScanClock,
    ScanMode,
    ScanRequest,
)

__all__ = [  # the wire's bodies, as the station uses them
    "BatchResult", "ForwardAnswer", "ForwardReport", "GateEntry", "GateFeed", "Heartbeat", "HeartbeatReply", "ScanAnswer", "ScanRequest",
]  # fmt: skip
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
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.budget_s = budget_s
        self.sync_timeout_s = sync_timeout_s
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PREFIX,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent},
            transport=transport,
            timeout=sync_timeout_s,
            trust_env=False,  # a station talks to its own server; no proxy from the environment
            verify=verify,  # the CA file from [server] ca_file, else the system's trust store
        )

    def close(self) -> None:
        self._http.close()

    def scan(
        self,
        scan_id: str,
        code: str,
        operator: str | None,
        scanned_at: str,
        mode: str,
        clock: ScanClock | None = None,  # the scan's clock (station.timesync)
    ) -> ScanAnswer:
        body = ScanRequest(
            scan_id,
            code,
            datetime.fromisoformat(scanned_at),
            operator,
            ScanMode(mode),
            clock=clock or ScanClock(),
        )
        data = self._call("POST", "/scans", self.budget_s, retry="any", json=body.to_json())
        return _parse(ScanAnswer.from_json, data)

    def upload_batch(self, scans: Sequence[ScanRequest]) -> list[BatchResult]:
        if not 0 < len(scans) <= BATCH_LIMIT:
            raise ValueError(f"a batch holds 1..{BATCH_LIMIT} scans (got {len(scans)})")
        body = BatchRequest(tuple(scans), sent_clock()).to_json()
        data = self._call("POST", "/scans/batch", self.sync_timeout_s, retry="any", json=body)
        return list(_parse(BatchAnswer.from_json, data).results)

    def gate_feed(self, since: int, limit: int = 500) -> GateFeed:
        params = {"since": since, "limit": limit}
        data = self._call("GET", "/gate", self.sync_timeout_s, retry="any", params=params)
        return _parse(GateFeed.from_json, data)

    def manifest(self, day: str | None = None) -> dict[str, Any]:
        """The handover manifest of a day (YYYY-MM-DD, default today) as the server has it."""
        params = {"date": day} if day else {}
        return self._call("GET", "/manifest", self.sync_timeout_s, retry="any", params=params)

    def heartbeat(self, beat: Heartbeat) -> HeartbeatReply:
        data = self._call("POST", "/heartbeat", self.sync_timeout_s, retry="connect", json=beat.to_json())
        return _parse(HeartbeatReply.from_json, data)

    # -- the inline gate: whether each PASS reached the packing PC (shipgate.wire) --------------

    def report_forwarding(self, reports: Sequence[ForwardReport]) -> list[ForwardAnswer]:
        if not 0 < len(reports) <= BATCH_LIMIT:
            raise ValueError(f"a forwarding report holds 1..{BATCH_LIMIT} reports (got {len(reports)})")
        body = ForwardingRequest(tuple(reports)).to_json()
        data = self._call("POST", "/scans/forwarding", self.sync_timeout_s, retry="any", json=body)
        return list(_parse(ForwardingAnswer.from_json, data).results)

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
    except ValueError as exc:  # shipgate.wire.WireError names the field
        raise BadResponse(f"response does not follow the wire contract: {type(exc).__name__}: {exc}") from exc
