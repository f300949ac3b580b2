"""A real server on waitress, on loopback, in a background thread (for tests and benchmarks)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The real app on waitress, on loopback, in a background thread."""

    def __init__(self, app, port: int | None = None):
        from waitress.server import create_server

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = create_server(app, host="127.0.0.1", port=self.port, threads=4)
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # stop() closes the sockets under the loop's select()
            self._server.run()

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=0.5)
                return self
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError("live server did not start")

    def stop(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)
