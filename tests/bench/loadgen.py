"""Raw HTTP/1.1 keep-alive request bytes, for loopback load drivers (tests/soak/soak_load.py).

The gate benchmark itself is driven by wrk (tests/bench/gate.lua), not by Python.
"""

from __future__ import annotations


def http_request(method: str, path: str, host: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
