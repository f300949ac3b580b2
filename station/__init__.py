"""The Shipgate bench station: scanner in, decision out, slip printed, every scan journaled.

Dependency-light by design: the standard library, httpx, pyserial, python-escpos, evdev (Linux) and the
shared `shipgate.codes` / `shipgate.wire`. It never imports the server package, Flask or SQLAlchemy.

One module per idea:
    config    station.toml -> frozen dataclasses (read only by the composition root, cli.py)
    scanner   the serial scanner port (with ch9329 and light, the only modules importing `serial`)
              and the reader thread the HID scanner shares
    hidscanner a keyboard (HID) scanner through evdev, grabbed (the only module importing `evdev`)
    forward   the inline gate: PASS -> key reports to the packing PC (pure encoder; USB gadget /dev/hidg0)
    ch9329    the WCH CH9329 serial-to-USB-keyboard module: frames, checksums, checked replies
    forwardlog whether and when each PASS reached the packing PC (the journal's `forwards` table)
    client    the server's station API over one keep-alive httpx.Client
    replica   the local SQLite copy of the gate, for offline decisions
    journal   every scan, written before it is acted on; the offline upload queue
    decision  pure: the station's own decisions (offline, invalid code, journal failure)
    slips     pure: slip layout as a list of printer operations
    printer   python-escpos devices, the print spooler and DLE EOT status (the only module importing `escpos`)
    display   the bench's terminal display (ANSI, plain fallback)
    uplink    the background link: replica sync, journal upload, heartbeats
    bench     the loop that moves data between the parts; `Bench` and `build_bench(config)`
    status    the health snapshot and the heartbeat built from it (with the alert channels and clock)
    alerts    the bench's alert fan-out (screen, voice, light) and the fail-closed rule (HOLD no_alarm)
    screen    the bench page (screen.html) over HTTP with server-sent events
    voice     zh-CN prompts through a player command  ·  light  a USB-serial tower light
    timesync  what a scan says about its clock: synchronised, boot id, monotonic time
    service   systemd notify/watchdog, signals
    virtual   a virtual scanner (pty) and a capturing network printer, for tests, demo and benchmarks
    virtualpc a simulated packing PC behind a pty USB gadget or a pty CH9329
    cli       `shipgate-station` (run, check, test-print, manifest, list-ports, voice-prompts)
"""

from shipgate import __version__

__all__ = ["__version__"]
