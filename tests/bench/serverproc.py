"""Run `shipgate-server serve` as a subprocess on loopback for a benchmark, with a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from server import db
from server.settings import Settings
from server.stations import enrol


class ServerProcess:
    def __init__(self, port: int, **settings: str):
        self.workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-"))
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "SHIPGATE_INSTANCE_DIR": str(self.workdir / "instance"),
            "SHIPGATE_THREADS": "8",
        }
        self.env.pop("SHIPGATE_DATABASE_URL", None)  # the default embedded SQLite
        self.env.update({f"SHIPGATE_{k.upper()}": str(v) for k, v in settings.items()})
        self.settings = Settings.from_env(self.env)
        self.engine = db.make_engine(self.settings.resolved_database_url)
        db.upgrade(self.engine)
        self.process: subprocess.Popen | None = None

    def enrol(self, name: str = "bench-load") -> str:
        with Session(self.engine) as session:
            _station, token = enrol(session, name, "main")
            session.commit()
        return token

    def start(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "server.log").open("ab"),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
