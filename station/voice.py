"""Spoken zh-CN prompts: a player command (default `aplay -q {file}`) run in the background.

`prompt_for(event)` names the prompt for an announcement (block, one per HOLD reason, offline,
printer, pass). A file in the merchant's `dir` wins over the generated one in `prompts_dir`
(`generate_prompts` writes those with espeak-ng at install time). `Voice.announce` only queues:
a worker thread runs the player, so a decision never waits for a sound; a newer prompt replaces
one still waiting. A missing player or file is a warning, never an error.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shlex
import shutil
import subprocess
import threading
from pathlib import Path

from shipgate.wire import Reason
from station.alerts import Event, Kind

log = logging.getLogger(__name__)

PROMPTS = {
    "block": "已退款，请勿发货",
    "hold": "暂停发货，请联系主管",
    "hold_partial_refund": "部分商品已退款，请取出退款商品",
    "hold_refund_pending": "买家申请退款中，暂停发货",
    "hold_unpaid": "订单未付款，暂停发货",
    "hold_unknown_order": "查无此订单，暂停发货",
    "hold_stale_replica": "离线数据过旧，暂停发货",
    "hold_invalid_code": "无法识别的条码，请重新扫描",
    "hold_no_alarm": "无法报警，暂停发货，请联系主管",
    "offline": "服务器已断开，离线判定",
    "printer": "打印机故障，请检查纸张和上盖",
    "pass": "可发货",
}
_HOLD_REASONS = {
    Reason.PARTIAL_REFUND,
    Reason.REFUND_PENDING,
    Reason.UNPAID,
    Reason.UNKNOWN_ORDER,
    Reason.STALE_REPLICA,
    Reason.INVALID_CODE,
}


def prompt_for(event: Event, *, on_pass: bool = False) -> str | None:
    """The prompt's name (file stem) for an announcement, or None for silence."""
    match event.kind:
        case Kind.BLOCK:
            return "block"
        case Kind.HOLD:
            if event.reason == "no_alarm" or event.reason in {r.value for r in _HOLD_REASONS}:
                return f"hold_{event.reason}"
            return "hold"
        case Kind.OFFLINE:
            return "offline"
        case Kind.PRINTER:
            return "printer"
        case Kind.PASS:
            return "pass" if on_pass else None
    return None


def generate_prompts(directory: Path, espeak: str = "espeak-ng", voice: str = "cmn") -> list[Path]:
    """Write every default prompt as <name>.wav with espeak-ng (install time)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in PROMPTS.items():
        target = directory / f"{name}.wav"
        subprocess.run([espeak, "-v", voice, "-w", str(target), text], check=True, capture_output=True)
        written.append(target)
    return written


class Voice:
    def __init__(
        self,
        command: str = "aplay -q {file}",
        prompts_dir: Path | None = None,
        own_dir: Path | None = None,
        *,
        on_pass: bool = False,
    ) -> None:
        self.command = command
        self.dirs = [d for d in (own_dir, prompts_dir) if d is not None]
        self.on_pass = on_pass
        self._queue: queue.Queue[Path | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()
        self.played: list[str] = []
        self.failures = 0

    @property
    def player(self) -> str:
        return shlex.split(self.command)[0]

    @property
    def working(self) -> bool:
        """The player exists and the BLOCK prompt is there."""
        return shutil.which(self.player) is not None and self.file_for("block") is not None

    def file_for(self, name: str) -> Path | None:
        for directory in self.dirs:
            path = directory / f"{name}.wav"
            if path.is_file():
                return path
        return None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()
        if not self.working:
            self._warn(
                "setup", f"voice: player {self.player!r} or the block prompt is missing in {self.dirs}"
            )

    def stop(self) -> None:
        if self._thread is not None:
            self._replace(None)
            self._thread.join(5)
            self._thread = None

    def is_alive(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    def announce(self, event: Event) -> None:
        name = prompt_for(event, on_pass=self.on_pass)
        if name is None:
            return
        path = self.file_for(name) or (self.file_for("hold") if name.startswith("hold_") else None)
        if path is None:
            self._warn(name, f"voice: no prompt file for {name!r} in {self.dirs}")
            return
        self._replace(path)

    def _replace(self, item: Path | None) -> None:
        """Queue the newest prompt; one still waiting is dropped (never block the bench)."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def _run(self) -> None:
        while True:
            path = self._queue.get()
            if path is None:
                return
            argv = [part.replace("{file}", str(path)) for part in shlex.split(self.command)]
            try:
                result = subprocess.run(argv, capture_output=True, timeout=30)
            except (OSError, subprocess.SubprocessError) as exc:
                self.failures += 1
                self._warn("run", f"voice: cannot run {argv[0]!r}: {exc}")
                continue
            if result.returncode != 0:
                self.failures += 1
                log.warning("voice: %s exited %d: %s", argv[0], result.returncode, result.stderr[-200:])
            else:
                self.played.append(path.stem)

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)
