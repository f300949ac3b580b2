"""`shipgate-station`: the station's command line, and its composition root for settings.

    shipgate-station run --config station.toml          the bench (systemd: Type=notify)
    shipgate-station check CODE --config station.toml   one decision, printed (journaled like a scan)
    shipgate-station test-print --config station.toml   a test slip, for IT
    shipgate-station list-ports                         serial ports and HID keyboards with their USB ids
    shipgate-station voice-prompts --dir DIR            the default zh-CN prompts, with espeak-ng (install)

Logs are English, to stderr (journald under systemd); bench text on the display is zh-CN.
Exit codes: 0 ok (check: PASS), 1 failure (check: BLOCK), 2 bad settings, 3 check: HOLD.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable

from shipgate import __version__
from shipgate.wire import Decision

log = logging.getLogger("station")

EXIT_BAD_CONFIG = 2
_CHECK_EXIT = {Decision.PASS: 0, Decision.BLOCK: 1, Decision.HOLD: 3}


def main(argv: list[str] | None = None, *, clock: Callable[[], float] = time.time) -> int:
    """The composition root: `clock` (Unix seconds) is the one clock every command hands down."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.clock = clock
    configure_logging(args.log_level)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_CONFIG
    return args.func(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipgate-station", description="Shipgate bench station")
    parser.add_argument("--version", action="version", version=f"shipgate-station {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run the bench station")
    run.add_argument("--config", required=True, help="path to station.toml")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="decide one code and print the decision")
    check.add_argument("code")
    check.add_argument("--config", required=True)
    check.set_defaults(func=cmd_check)

    test_print = sub.add_parser("test-print", help="print a test slip")
    test_print.add_argument("--config", required=True)
    test_print.set_defaults(func=cmd_test_print)

    manifest = sub.add_parser("manifest", help="print the day's handover manifest (交接单)")
    manifest.add_argument("--config", required=True)
    manifest.add_argument("--date", default=None, help="YYYY-MM-DD (default today)")
    manifest.set_defaults(func=cmd_manifest)

    ports = sub.add_parser("list-ports", help="list serial ports and HID keyboards (for [scanner] device)")
    ports.set_defaults(func=cmd_list_ports)

    prompts = sub.add_parser("voice-prompts", help="generate the default zh-CN voice prompts (espeak-ng)")
    prompts.add_argument("--dir", required=True, help="where the .wav files go, e.g. DATA_DIR/voice")
    prompts.add_argument("--espeak", default="espeak-ng")
    prompts.set_defaults(func=cmd_voice_prompts)
    return parser


def configure_logging(level: str = "INFO") -> None:
    """Our own handler on the root logger (escpos's basicConfig is undone in station.printer)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def _load(path: str):
    from station.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return None


def cmd_run(args: argparse.Namespace) -> int:
    from station.bench import build_bench
    from station.journal import JournalError
    from station.replica import ReplicaError
    from station.service import install_signal_handlers, run_service

    config = _load(args.config)
    if config is None:
        return EXIT_BAD_CONFIG
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        bench = build_bench(config, clock=args.clock)
    except (OSError, JournalError, ReplicaError) as exc:  # e.g. data_dir not writable
        log.critical("cannot start the station: %s", exc)
        return 1
    return run_service(bench, stop=stop)


def cmd_check(args: argparse.Namespace) -> int:
    from station.bench import build_bench

    config = _load(args.config)
    if config is None:
        return EXIT_BAD_CONFIG
    bench = build_bench(
        config,
        with_scanner=False,
        with_printer=False,
        with_display=False,
        with_forwarder=False,
        with_screen=False,
        clock=args.clock,
    )
    try:
        outcome = bench.handle(args.code)
    finally:
        bench.stop()
    if outcome is None:
        print("badge: operator signed in (no decision)")
        return 0
    print(f"{outcome.decision.value} {outcome.reason} {outcome.label}")
    print(f"message:  {outcome.message}")
    print(f"order:    {outcome.order_id or '-'}")
    print(f"source:   {outcome.source.value}")
    print(f"scan_id:  {outcome.scan_id or '-'}")
    print(f"version:  {outcome.gate_version if outcome.gate_version is not None else '-'}")
    if outcome.waybill:
        print(f"waybill:  {outcome.waybill.carrier or '-'} {outcome.waybill.tracking_no}")
    return _CHECK_EXIT[outcome.decision]


def cmd_test_print(args: argparse.Namespace) -> int:
    from station.bench import local_text, printer_from_config
    from station.printer import PrinterError
    from station.slips import SlipContext, printer_test_slip

    config = _load(args.config)
    if config is None:
        return EXIT_BAD_CONFIG
    printer = printer_from_config(config)
    pc = config.printer
    when = local_text(args.clock())
    ctx = SlipContext(config.station.name or "工位", None, when, pc.width, pc.red, pc.buzzer)
    try:
        printer.print_now(printer_test_slip(ctx, printer.description))
    except PrinterError as exc:
        print(f"test print failed: {exc}", file=sys.stderr)
        return 1
    print(f"test slip sent to {printer.description}")
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from station.bench import local_text, printer_from_config
    from station.client import GateClient, GateError
    from station.printer import PrinterError
    from station.slips import SlipContext, manifest_slip

    config = _load(args.config)
    if config is None:
        return EXIT_BAD_CONFIG
    client = GateClient(
        config.server.url,
        config.server.token,
        sync_timeout_s=config.server.sync_timeout_s,
        verify=config.server.verify,
    )
    try:
        manifest = client.manifest(args.date)
    except GateError as exc:
        print(f"cannot fetch the manifest: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    for pickup in manifest["pickups"]:
        print(f"{pickup['courier']}\t{pickup['count']}")
    pc = config.printer
    when = local_text(args.clock())
    ctx = SlipContext(config.station.name or "工位", None, when, pc.width, pc.red, pc.buzzer)
    try:
        printer_from_config(config).print_now(manifest_slip(manifest, ctx))
    except PrinterError as exc:
        print(f"printing failed: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_list_ports(args: argparse.Namespace) -> int:
    """Serial ports (for kind = "serial") and keyboard-class input devices (for kind = "hid")."""
    from station.scanner import available_ports

    rows = [port.describe() for port in available_ports()]
    rows += [device.describe() for device in hid_devices()]
    if not rows:
        print(
            "no serial ports and no keyboard-class input devices found (for HID scanners the user needs the `input` group)"
        )
        return 0
    print("device\tvid:pid\tserial\tdescription")
    for row in rows:
        print(row)
    return 0


def hid_devices() -> list:
    """Keyboard-class input devices; none where evdev is not installed (not Linux)."""
    try:
        from station.hidscanner import input_devices
    except ImportError:
        return []
    return input_devices()


def cmd_voice_prompts(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    from station.voice import generate_prompts

    try:
        written = generate_prompts(Path(args.dir), espeak=args.espeak)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"cannot generate the prompts with {args.espeak}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} prompts written to {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
