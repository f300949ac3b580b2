"""The bench screen: a zh-CN full-screen page served by the station itself (stdlib HTTP server).

    GET /            the page (HTML, CSS and script inline: no other asset, nothing from the net)
    GET /state.json  the facts on screen now (station.alerts.View.as_json)
    GET /events      server-sent events: one `state` event per change (same JSON), a comment
                     every `keepalive_s` so a dead viewer is noticed

The page colours itself from `decision`: BLOCK red (已退款 请勿发货), HOLD yellow with the reason
and the goods to take out, PASS green; it shows the operator, online/offline and the replica's
age, scanner / printer / forward health and today's counts. The screen counts as *working* for
the fail-closed rule only while a viewer (the kiosk's Chromium) holds /events open.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from station.alerts import Event, View

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        screen = self.server.screen
        if path == "/":
            self._send(200, "text/html; charset=utf-8", screen.page)
        elif path == "/state.json":
            body = json.dumps(screen.state(), ensure_ascii=False).encode()
            self._send(200, "application/json", body)
        elif path == "/events":
            self._stream(screen)
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, screen: Screen) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        inbox = screen._subscribe()
        try:
            self.wfile.write(_sse(screen.state()))
            self.wfile.flush()
            while not screen._stopping.is_set():
                try:
                    message = inbox.get(timeout=screen.keepalive_s)
                except queue.Empty:
                    message = b": keepalive\n\n"
                if message is None:
                    return
                self.wfile.write(message)
                self.wfile.flush()
        except OSError:  # the viewer went away
            return
        finally:
            screen._unsubscribe(inbox)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    screen: Screen


def _sse(state: dict[str, Any]) -> bytes:
    return b"event: state\ndata: " + json.dumps(state, ensure_ascii=False).encode() + b"\n\n"


def load_page() -> bytes:
    return (Path(__file__).parent / "screen.html").read_bytes()  # package data beside this module


class Screen:
    """The alert channel that serves the page. `start()` binds host:port (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8765, *, keepalive_s: float = 15.0) -> None:
        self.host, self.port = host, port
        self.keepalive_s = keepalive_s
        self.page = load_page()
        self._view = View()
        self._lock = threading.Lock()
        self._viewers: set[queue.Queue[bytes | None]] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.events_sent = 0

    # -- the channel -----------------------------------------------------------------------

    @property
    def working(self) -> bool:
        with self._lock:
            return self.is_alive() and bool(self._viewers)

    @property
    def viewers(self) -> int:
        with self._lock:
            return len(self._viewers)

    def status(self, view: View) -> None:
        with self._lock:
            if view == self._view:
                return
            self._view = view
        self._publish()

    def announce(self, event: Event) -> None:
        """The page draws the decision from the state itself; a fresh event is pushed anyway, so
        the same decision twice in a row (two refunded parcels) flashes again."""
        self._publish()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return self._view.as_json()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("screen already started")
        try:
            self._server = _Server((self.host, self.port), _Handler)
        except OSError as exc:  # the station runs on without a screen (it does not count as working)
            log.error("screen: cannot listen on %s: %s", self.url, exc)
            return
        self._server.screen = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="screen", daemon=True)
        self._thread.start()
        log.info("screen: serving %s", self.url)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for inbox in self._viewers:
                inbox.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- viewers ---------------------------------------------------------------------------

    def _publish(self) -> None:
        message = _sse(self.state())
        with self._lock:
            viewers = list(self._viewers)
        for inbox in viewers:
            with contextlib.suppress(queue.Full):
                inbox.put_nowait(message)
        self.events_sent += 1

    def _subscribe(self) -> queue.Queue[bytes | None]:
        inbox: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        with self._lock:
            self._viewers.add(inbox)
        return inbox

    def _unsubscribe(self, inbox: queue.Queue[bytes | None]) -> None:
        with self._lock:
            self._viewers.discard(inbox)
