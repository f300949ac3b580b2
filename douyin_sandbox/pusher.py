"""Sends the sandbox's push messages to a webhook, from one background thread, as Douyin would.

POST <url> with a JSON array of {tag, msg_id, data: <JSON string>}, headers `event-sign`
(MD5 of app_key + body + app_secret) and `app-id`. Anything but HTTP 200 with {"code": 0} is
retried later (a retry may overtake newer messages: order is not guaranteed, as on the platform).
Fault switches can drop, duplicate or hold-and-reverse messages.

When a push URL is configured (at start, or changed later) the platform first sends the URL
verification `[{"tag":"0","msg_id":"0","data":"<RFC 3339 time>"}]`, alone and untouched by the
faults; `verification` says whether the webhook answered it with success.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from douyin_sandbox.faults import Faults
from server.douyin.push import encode_push_body
from server.douyin.signing import event_sign

log = logging.getLogger(__name__)

Message = tuple[str, str, dict[str, Any] | str]  # tag, msg_id, data (a string only for tag 0)
VERIFY_TAG = "0"


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    messages: list[Message] = field(compare=False)
    attempt: int = field(default=0, compare=False)

    @property
    def is_verification(self) -> bool:
        return any(tag == VERIFY_TAG for tag, _msg_id, _data in self.messages)


class PushSender:
    def __init__(
        self,
        app_key: str,
        app_secret: str,
        url: str | None,
        *,
        faults: Faults,
        new_msg_id: Callable[[], str],
        retry_delays: tuple[float, ...] = (0.2, 1.0, 5.0),
        timeout: float = 5.0,
        batch_size: int = 1,
        history: int = 1000,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        verify_time: Callable[[], str] | None = None,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self._url: str | None = None
        self._faults = faults
        self._new_msg_id = new_msg_id
        self._delays = retry_delays
        self._timeout = timeout
        self._transport = transport
        self._batch = max(1, batch_size)
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[_Delivery] = []
        self._held: list[Message] = []
        self._in_flight = 0
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.recent: deque[dict[str, Any]] = deque(maxlen=history)
        self.stats = {
            "submitted": 0,
            "sent": 0,
            "dropped": 0,
            "duplicated": 0,
            "failed_attempts": 0,
            "given_up": 0,
        }
        self._verify_time = verify_time or (lambda: time.strftime("%Y-%m-%dT%H:%M:%S+08:00"))
        # The URL verification: None before one was sent, then sent / acknowledged / refused.
        self.verification: dict[str, Any] | None = None
        self.url = url

    @property
    def url(self) -> str | None:
        return self._url

    @url.setter
    def url(self, url: str | None) -> None:
        """Configure where to push; a new URL is verified first (tag 0), as on the platform."""
        with self._cond:
            changed, self._url = url != self._url, url
            if url and changed:
                data = self._verify_time()
                self.verification = {"url": url, "data": data, "acknowledged": None, "attempts": 0}
                self._schedule([(VERIFY_TAG, "0", data)], 0, 0.0)

    # Producer side (called under the shop's lock: never blocks on the network).

    def submit(self, tag: str, data: dict[str, Any]) -> str:
        msg_id = self._new_msg_id()
        message = (str(tag), msg_id, data)
        with self._cond:
            self.stats["submitted"] += 1
            self.recent.append({"tag": str(tag), "msg_id": msg_id, "data": data})
            if not self.url:
                return msg_id
            if self._faults.drop_push():
                self.stats["dropped"] += 1
                return msg_id
            copies = 2 if self._faults.duplicate_push() else 1
            self.stats["duplicated"] += copies - 1
            for _ in range(copies):
                window = self._faults.reorder_window
                if window:
                    self._held.append(message)
                    if len(self._held) >= window:
                        self._release_locked()
                else:
                    self._schedule([message], 0, 0.0)
        return msg_id

    def release_held(self) -> int:
        """Send every held message now, newest first. Returns how many."""
        with self._cond:
            return self._release_locked()

    def _release_locked(self) -> int:
        held, self._held = self._held, []
        for message in reversed(held):
            self._schedule([message], 0, 0.0)
        return len(held)

    def _schedule(self, messages: list[Message], attempt: int, delay: float) -> None:
        heapq.heappush(self._queue, _Delivery(self._clock() + delay, next(self._seq), messages, attempt))
        self._cond.notify_all()

    # Lifecycle.

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sandbox-push", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight (held messages stay held). False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight + len(self._held)

    # The sender thread.

    def _take(self) -> _Delivery | None:
        with self._cond:
            while not self._stopping:
                now = self._clock()
                if self._queue and self._queue[0].due <= now:
                    first = heapq.heappop(self._queue)
                    while (
                        len(first.messages) < self._batch
                        and self._queue
                        and self._queue[0].due <= now
                        and not first.is_verification
                        and not self._queue[0].is_verification
                    ):
                        first.messages.extend(heapq.heappop(self._queue).messages)
                    self._in_flight += 1
                    return first
                wait = (self._queue[0].due - now) if self._queue else 0.5
                self._cond.wait(max(0.001, min(wait, 0.5)))
            return None

    def _run(self) -> None:
        with httpx.Client(transport=self._transport, timeout=self._timeout) as http:
            while (delivery := self._take()) is not None:
                ok = self._send(http, delivery.messages)
                with self._cond:
                    self._in_flight -= 1
                    if delivery.is_verification and self.verification is not None:
                        self.verification["attempts"] += 1
                        self.verification["acknowledged"] = ok
                    if ok:
                        self.stats["sent"] += 0 if delivery.is_verification else len(delivery.messages)
                    else:
                        self.stats["failed_attempts"] += 1
                        if delivery.attempt < len(self._delays):
                            self._schedule(
                                delivery.messages, delivery.attempt + 1, self._delays[delivery.attempt]
                            )
                        else:
                            self.stats["given_up"] += len(delivery.messages)
                            log.warning(
                                "push of %d message(s) given up after %d attempts",
                                len(delivery.messages),
                                delivery.attempt + 1,
                            )
                    self._cond.notify_all()

    def _send(self, http: httpx.Client, messages: list[Message]) -> bool:
        url = self.url
        if not url:
            return True
        body = encode_push_body(messages)
        headers = {
            "Content-Type": "application/json",
            "event-sign": event_sign(self.app_key, self._secret, body),
            "app-id": self.app_key,
        }
        try:
            response = http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("push to webhook failed: %s", type(exc).__name__)
            return False
        try:
            reply = json.loads(response.content)
        except ValueError:
            reply = None
        ok = response.status_code == 200 and isinstance(reply, dict) and reply.get("code") == 0
        if not ok:
            log.info("push refused by webhook: HTTP %s", response.status_code)
        return ok
