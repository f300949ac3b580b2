"""Run `shipgate-server serve` as a subprocess on loopback for a benchmark, with a fresh database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from server import db, secretbox
from server.settings import Settings
from server.stations import enrol

THREADS = 8  # waitress threads of every benchmarked process (the bare app's too)
# One data key for the run: every server process and the loader seal and read the same secrets.
DATA_KEY = secretbox.new_key()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{what} did not start on {url}")
        time.sleep(0.1)


class Child:
    """A benchmarked process on loopback: `process` once started; `stop()` ends it."""

    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class ServerProcess(Child):
    """One `serve` process. Without `database_url` it gets a fresh default SQLite database; with
    one it uses that database as it is (migrated unless `migrate=False`)."""

    def __init__(self, port: int, database_url: str | None = None, *, migrate: bool = True, **settings: str):
        self.workdir = Path(tempfile.mkdtemp(prefix="shipgate-bench-"))
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "SHIPGATE_INSTANCE_DIR": str(self.workdir / "instance"),
            "SHIPGATE_THREADS": str(THREADS),
            "SHIPGATE_SECRET_KEY": "bench-secret-key",
            "SHIPGATE_DATA_KEY": DATA_KEY,
        }
        self.env.pop("SHIPGATE_DATABASE_URL", None)  # the default embedded SQLite
        if database_url:
            self.env["SHIPGATE_DATABASE_URL"] = database_url
        self.env.update({f"SHIPGATE_{k.upper()}": str(v) for k, v in settings.items()})
        self.settings = Settings.from_env(self.env)
        secretbox.install(self.settings.data_key)  # the loader writes shops (their secrets sealed)
        self.database_url = self.settings.resolved_database_url
        self.engine = db.make_engine(self.database_url)
        if migrate:
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
        wait_healthy(self.url, self.process, "the server")
        return self

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
