"""Voice: the player command run by a stand-in player script; prompts generated with espeak-ng."""

from __future__ import annotations

import shutil
import stat
import threading
from pathlib import Path

import pytest
from polling import wait_until
from station_testkit import ORDER_OK, ORDER_PARTIAL, ORDER_REFUNDED

from station.alerts import Alerts, Event, Kind
from station.voice import PROMPTS, Voice, generate_prompts, prompt_for


@pytest.fixture
def player(tmp_path):
    """A stand-in for aplay: appends the file it was asked to play to a log; waits for a gate file
    if one exists (a slow speaker)."""
    log = tmp_path / "played.log"
    script = tmp_path / "player"
    script.write_text(
        f'#!/bin/sh\nwhile [ -e "{tmp_path}/gate" ]; do sleep 0.01; done\necho "$2" >> "{log}"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def _prompts(directory: Path, names=PROMPTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / f"{name}.wav").write_bytes(b"RIFF")
    return directory


def _played(log: Path) -> list[str]:
    return [Path(line).stem for line in log.read_text().split()] if log.exists() else []


def test_prompt_names():
    assert prompt_for(Event(Kind.BLOCK)) == "block"
    assert prompt_for(Event(Kind.HOLD, "partial_refund")) == "hold_partial_refund"
    assert prompt_for(Event(Kind.HOLD, "exception_cleared")) == "hold"
    assert prompt_for(Event(Kind.PASS)) is None
    assert prompt_for(Event(Kind.PASS), on_pass=True) == "pass"
    assert prompt_for(Event(Kind.PRINTER, "paper_out")) == "printer"


def test_the_bench_speaks_through_the_player(tmp_path, player, make_bench):
    script, log = player
    own = tmp_path / "own"
    own.mkdir()
    (own / "block.wav").write_bytes(b"RIFF")  # the merchant's own BLOCK recording wins
    voice = Voice(f"{script} -q {{file}}", _prompts(tmp_path / "prompts"), own)
    parts = make_bench(alerts=Alerts({"voice": voice}))
    assert voice.working
    parts.bench.handle(ORDER_REFUNDED)
    assert wait_until(lambda: "block" in _played(log))
    assert str(own / "block.wav") in log.read_text()
    parts.bench.handle(ORDER_PARTIAL)
    assert wait_until(lambda: "hold_partial_refund" in _played(log))
    parts.bench.handle(ORDER_OK)  # PASS is silent unless on_pass
    parts.bench.handle(ORDER_REFUNDED)
    assert wait_until(lambda: _played(log).count("block") == 2)
    assert "pass" not in _played(log)


def test_a_slow_player_never_delays_a_decision(tmp_path, player, make_bench):
    script, log = player
    (tmp_path / "gate").touch()  # the player hangs until the gate file goes
    voice = Voice(f"{script} -q {{file}}", _prompts(tmp_path / "prompts"))
    parts = make_bench(alerts=Alerts({"voice": voice}))
    done = threading.Event()

    def scan_three():
        for code in (ORDER_REFUNDED, ORDER_REFUNDED, ORDER_REFUNDED):
            parts.bench.handle(code)
        done.set()

    threading.Thread(target=scan_three, daemon=True).start()
    assert done.wait(10)  # decided while the first prompt still "plays"
    assert _played(log) == []
    (tmp_path / "gate").unlink()
    assert wait_until(lambda: len(_played(log)) >= 2)
    assert set(_played(log)) == {"block"}


def test_a_missing_player_or_file_is_a_warning(tmp_path, make_bench, caplog):
    voice = Voice("/no/such/player {file}", tmp_path / "empty")
    parts = make_bench(alerts=Alerts({"voice": voice}))
    assert not voice.working
    assert parts.bench.handle(ORDER_REFUNDED).decision.value == "BLOCK"
    assert "voice:" in caplog.text
    voice2 = Voice("/no/such/player {file}", _prompts(tmp_path / "p2"))
    voice2.start()
    voice2.announce(Event(Kind.BLOCK))
    assert wait_until(lambda: voice2.failures == 1)
    voice2.stop()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_generate_prompts_with_espeak(tmp_path):
    written = generate_prompts(tmp_path / "voice")
    assert {p.stem for p in written} == set(PROMPTS)
    block = (tmp_path / "voice" / "block.wav").read_bytes()
    assert block[:4] == b"RIFF" and block[8:12] == b"WAVE" and len(block) > 10_000


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_voice_prompts_command(tmp_path, capsys):
    from station.cli import main

    assert main(["voice-prompts", "--dir", str(tmp_path / "v")]) == 0
    assert (tmp_path / "v" / "hold_partial_refund.wav").stat().st_size > 1000
    assert main(["voice-prompts", "--dir", str(tmp_path / "w"), "--espeak", "/no/such/espeak"]) == 1
