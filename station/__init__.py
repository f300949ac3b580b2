"""The Shipgate bench station: scanner in, decision out, slip printed, every scan journaled.

Dependency-light by design: the standard library, httpx, pyserial, python-escpos and the
shared `shipgate.codes` / `shipgate.wire`. It never imports the server package, Flask or SQLAlchemy.

One module per idea:
    config    station.toml -> frozen dataclasses (read only by the composition root, cli.py)
    scanner   the serial port (the only module importing `serial`)
    client    the server's station API over one keep-alive httpx.Client
    replica   the local SQLite copy of the gate, for offline decisions
    journal   every scan, written before it is acted on; the offline upload queue
    decision  pure: the station's own decisions (offline, invalid code, journal failure)
    slips     pure: slip layout as a list of printer operations
    printer   python-escpos devices and the print spooler (the only module importing `escpos`)
    display   the bench's terminal display (ANSI, plain fallback)
    uplink    the background link: replica sync, journal upload, heartbeats
    bench     the loop that moves data between the parts; `Bench` and `build_bench(config)`
    service   systemd notify/watchdog, signals, heartbeat payload
    virtual   a virtual scanner (pty) and a capturing network printer, for tests, demo and benchmarks
    cli       `shipgate-station` (run, check, test-print, list-ports)
"""

from shipgate import __version__

__all__ = ["__version__"]
