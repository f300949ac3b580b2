"""TLS between a station and its server with a private CA: the station trusts the CA file named
in its config, and nothing else. socat terminates TLS in front of the test gate server, as nginx
does in production (deploy/nginx/shipgate.conf)."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from polling import wait_until
from station_testkit import ORDER_OK, TOKEN

from shipgate.wire import Decision
from station.client import GateClient, GateError
from station.config import parse_config

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")


def _now() -> str:
    """The station's clock at the scan (the server bounds a scan's time by its own)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture
def private_ca(tmp_path):
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        _name("Shipgate test CA"), _name("Shipgate test CA"), ca_key.public_key(), ca_key, ca=True
    )
    leaf = _certificate(_name("localhost"), ca.subject, leaf_key.public_key(), ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    key = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "server.pem").write_bytes(leaf.public_bytes(pem) + key)
    return tmp_path


@pytest.fixture
def tls_front(private_ca, gate_server):
    """https://localhost:PORT in front of the gate server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = gate_server.url.rsplit(":", 1)[1].rstrip("/")
    proc = subprocess.Popen(
        [
            "socat",
            f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={private_ca / 'server.pem'},verify=0",
            f"TCP:127.0.0.1:{backend}",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    assert wait_until(listening, timeout=10)
    yield f"https://localhost:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def _config(url: str, extra: str = ""):
    import tomllib

    text = f'[server]\nurl = "{url}"\ntoken = "{TOKEN}"\n{extra}\n[printer]\nkind = "dummy"\n[station]\nname = "A"\n'
    return parse_config(tomllib.loads(text), base_dir=None)


def test_the_station_trusts_the_ca_file_from_its_config(tls_front, private_ca):
    server = _config(tls_front, f'ca_file = "{private_ca / "ca.pem"}"').server
    client = GateClient(server.url, server.token, budget_s=5, sync_timeout_s=5, verify=server.verify)
    try:
        result = client.scan(str(uuid.uuid4()), ORDER_OK, None, _now(), "bench")
    finally:
        client.close()
    assert result.decision is Decision.PASS


def test_without_the_ca_file_the_station_refuses_the_server(tls_front):
    server = _config(tls_front).server  # the system trust store does not know the private CA
    client = GateClient(server.url, server.token, budget_s=5, sync_timeout_s=5, verify=server.verify)
    try:
        with pytest.raises(GateError):
            client.scan(str(uuid.uuid4()), ORDER_OK, None, _now(), "bench")
    finally:
        client.close()
