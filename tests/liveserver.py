"""A real server on waitress, on loopback, in a background thread (for tests and benchmarks)."""

from __future__ import annotations

import contextlib
import socket
import threading

import httpx
from polling import wait_until


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
        if not wait_until(self._answers, timeout=5, interval=0.02):
            raise RuntimeError("live server did not start")
        return self

    def _answers(self) -> bool:
        try:
            httpx.get(self.url + "/healthz", timeout=0.5)
        except httpx.TransportError:
            return False
        return True

    def stop(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)
