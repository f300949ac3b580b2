"""deploy/nginx/shipgate.conf: nginx accepts it, and a real nginx in front of a loopback backend does what
the comments promise (TLS, forwarded headers, body limits, unbuffered SSE, /metrics kept local).

The site is used as written except for what only the target machine has: the certificate (a self-signed
one made here), log paths, listen ports (free loopback ports) and the upstream (a backend in this test).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CERT_PLACEHOLDER = re.compile(r"^\s*ssl_certificate\s+(\S+);", re.M)
KEY_PLACEHOLDER = re.compile(r"^\s*ssl_certificate_key\s+(\S+);", re.M)


@pytest.fixture(scope="module")
def nginx(which) -> str:
    tool = which("nginx")
    if tool is None:
        pytest.skip("nginx not installed (Debian package: nginx-light or nginx)")
    return tool


@pytest.fixture(scope="module")
def cert(which, tmp_path_factory) -> tuple[Path, Path]:
    openssl = which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed (Debian package: openssl)")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            d / "key.pem",
            "-out",
            d / "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return d / "cert.pem", d / "key.pem"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_for_test(
    site: str, work: Path, cert: tuple[Path, Path], *, http_port=None, https_port=None, backend_port=None
) -> str:
    site = CERT_PLACEHOLDER.sub(f"    ssl_certificate {cert[0]};", site)
    site = KEY_PLACEHOLDER.sub(f"    ssl_certificate_key {cert[1]};", site)
    site = site.replace("/var/log/nginx/", f"{work}/logs/")
    if http_port:
        site = re.sub(r"listen \[::\]:\d+[^;]*;", "", site)  # the sandbox may have no IPv6
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    if backend_port:
        site = re.sub(r"server 127\.0\.0\.1:\d+", f"server 127.0.0.1:{backend_port}", site)
    return site


def write_conf(deploy_dir: Path, work: Path, cert, **ports) -> Path:
    """A minimal nginx.conf that includes the site, with every path inside `work`."""
    for sub in ("logs", "tmp"):
        (work / sub).mkdir(exist_ok=True)
    site = work / "shipgate.conf"
    site.write_text(site_for_test((deploy_dir / "nginx/shipgate.conf").read_text(), work, cert, **ports))
    conf = work / "nginx.conf"
    conf.write_text(f"""
pid {work}/nginx.pid;
error_log {work}/logs/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log {work}/logs/access.log;
    client_body_buffer_size 4m;  # bodies stay in memory: workers may not write here
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    include {site};
}}
""")
    return conf


def test_site_keeps_placeholders_under_etc_ssl(deploy_dir):
    site = (deploy_dir / "nginx/shipgate.conf").read_text()
    assert CERT_PLACEHOLDER.search(site).group(1).startswith("/etc/ssl/")
    assert KEY_PLACEHOLDER.search(site).group(1).startswith("/etc/ssl/")
    assert re.findall(r"^\s*server (127\.0\.0\.1:\d+)", site, re.M) == [
        "127.0.0.1:8081",
        "127.0.0.1:8082",
        "127.0.0.1:8083",
    ]


def test_nginx_t_accepts_the_site(nginx, cert, deploy_dir, tmp_path):
    conf = write_conf(deploy_dir, tmp_path, cert)
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


class Backend(BaseHTTPRequestHandler):
    """Stands in for waitress: echoes what nginx forwarded; /console/stream is an SSE stream."""

    protocol_version = "HTTP/1.1"
    first_event_seen = threading.Event()

    def log_message(self, *args):
        pass

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body_len = len(self.rfile.read(length)) if length else 0
        payload = json.dumps(
            {"path": self.path, "headers": dict(self.headers.items()), "body_len": body_len}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.path != "/console/stream":
            return self._echo()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(data: bytes):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        chunk(b"data: first\n\n")
        # The second event is sent only once the client has the first: a buffering proxy deadlocks here.
        self.first_event_seen.wait(timeout=5)
        chunk(b"data: second\n\n")
        chunk(b"")

    do_POST = _echo


@pytest.fixture
def live_nginx(nginx, cert, deploy_dir, tmp_path):
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    Backend.first_event_seen.clear()
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    conf = write_conf(
        deploy_dir,
        tmp_path,
        cert,
        http_port=http_port,
        https_port=https_port,
        backend_port=backend.server_address[1],
    )
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=0.1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                threading.Event().wait(0.05)
        yield http_port, https_port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        backend.shutdown()
        backend.server_close()


def https(port: int) -> http.client.HTTPSConnection:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)


def request(port, method, path, body=None, headers=None):
    conn = https(port)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_live_proxy_behaviour(live_nginx):
    http_port, https_port = live_nginx

    plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
    plain.request("GET", "/api/v1/gate?since=0")
    resp = plain.getresponse()
    assert resp.status == 301
    assert resp.getheader("Location").startswith("https://")
    plain.close()

    status, body = request(https_port, "GET", "/healthz")
    assert status == 200
    seen = {k.lower(): v for k, v in json.loads(body)["headers"].items()}
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-real-ip"] == "127.0.0.1"
    assert "x-forwarded-host" in seen

    # A 500-scan offline batch (~1.5 MB here, more than a real one) reaches the station API...
    batch = json.dumps(
        {"scans": [{"scan_id": f"{i:032d}", "code": "6" * 19, "pad": "x" * 3000} for i in range(500)]}
    ).encode()
    assert 1_000_000 < len(batch) < 2 * 1024 * 1024
    status, body = request(
        https_port, "POST", "/api/v1/scans/batch", batch, {"Content-Type": "application/json"}
    )
    assert status == 200
    assert json.loads(body)["body_len"] == len(batch)
    # ...but not the console, which keeps nginx's default-sized limit.
    status, _ = request(https_port, "POST", "/login", batch)
    assert status == 413

    # The Douyin push passes through byte for byte, with its signature header.
    push = b'[{"tag":"206","msg_id":"7000000000000000001","data":"{}"}]'
    status, body = request(
        https_port,
        "POST",
        "/webhooks/douyin",
        push,
        {"event-sign": "57e71e8bb8a9b53c064b1324a7d702f8", "app-id": "1"},
    )
    echoed = json.loads(body)
    assert status == 200 and echoed["body_len"] == len(push)
    assert {k.lower(): v for k, v in echoed["headers"].items()}["event-sign"] == (
        "57e71e8bb8a9b53c064b1324a7d702f8"
    )

    # Metrics from loopback are served (the site allows 127.0.0.1 only).
    status, _ = request(https_port, "GET", "/metrics")
    assert status == 200


def test_console_stream_is_not_buffered(live_nginx):
    _, https_port = live_nginx
    conn = https(https_port)
    try:
        conn.request("GET", "/console/stream", headers={"Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200
        first = resp.readline()  # times out (5 s) if nginx holds the event back
        assert first == b"data: first\n"
        Backend.first_event_seen.set()
        rest = resp.read()
        assert b"data: second" in rest
    finally:
        Backend.first_event_seen.set()
        conn.close()
