"""Running the sandbox over HTTP with waitress: in the foreground (CLI) or in a thread (tests, demo)."""

from __future__ import annotations

import logging
import threading

from waitress import serve as waitress_serve
from waitress.server import create_server

from douyin_sandbox.app import create_sandbox_app
from douyin_sandbox.config import SandboxConfig
from douyin_sandbox.runtime import Sandbox

log = logging.getLogger(__name__)


def banner(config: SandboxConfig, url: str) -> str:
    """What an operator needs to point Shipgate at this sandbox (it is a sandbox: the secret is shown)."""
    return (
        f"Douyin open-platform sandbox at {url}\n"
        f"  app_key    {config.app_key}\n"
        f"  app_secret {config.app_secret}\n"
        f"  shop_id    {config.shop_id} ({config.shop_name})\n"
        f"  push_url   {config.push_url or '(none)'}\n"
        f"  control    {url}/sandbox/  (auth codes: {url}/sandbox/auth_code)"
    )


def serve_sandbox(
    host: str = "127.0.0.1", port: int = 8090, config: SandboxConfig | None = None, *, threads: int = 8
) -> None:
    """Serve in the foreground until interrupted."""
    config = config or SandboxConfig()
    sandbox = Sandbox(config).start()
    app = create_sandbox_app(config, sandbox=sandbox)
    print(banner(config, f"http://{host}:{port}"), flush=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="douyin-sandbox")
    finally:
        sandbox.stop()


class SandboxServer:
    """The sandbox on a real loopback port in a background thread: `with SandboxServer(cfg) as s: s.url`."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: Sandbox | None = None,
        threads: int = 4,
    ) -> None:
        self.config = config or (sandbox.config if sandbox else SandboxConfig())
        self.sandbox = sandbox or Sandbox(self.config)
        self._host, self._port, self._threads = host, port, threads
        self._server = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{self._host}:{self._server.effective_port}"

    def start(self) -> SandboxServer:
        app = create_sandbox_app(self.config, sandbox=self.sandbox)
        self._server = create_server(
            app, host=self._host, port=self._port, threads=self._threads, ident="douyin-sandbox"
        )
        self._stopping.clear()
        self.sandbox.start()
        self._thread = threading.Thread(
            target=self._loop, args=(self._server,), name="sandbox-http", daemon=True
        )
        self._thread.start()
        log.info("douyin sandbox listening on %s", self.url)
        return self

    def _loop(self, server) -> None:
        """waitress's run(), but one that can be told to stop; channels are closed in this thread."""
        while not self._stopping.is_set() and server._map:
            server.asyncore.loop(timeout=0.1, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        for channel in list(server._map.values()):
            channel.close() if channel is server else channel.handle_close()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._server = None
        self.sandbox.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
