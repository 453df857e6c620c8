"""Attacks on the dashboard as uvicorn serves it (headers a client can forge reach the real server)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dashboard.server import DashboardServer
from tests.dashboard.helpers import PASSWORD, Site, form_token, make_site, served_site


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, DashboardServer]]:
    with served_site(tmp_path, login_max_failures_address=6) as served:  # no trusted proxies: the default
        yield served


def _login(c: httpx.Client, username: str, password: str, spoof: str) -> int:
    token = form_token(c.get("/login").text)
    r = c.post("/login", data={"csrf_token": token, "username": username, "password": password},
               headers={"X-Forwarded-For": spoof, "X-Real-IP": spoof})
    return r.status_code


def test_a_forged_forwarded_for_does_not_escape_the_address_throttle(served: tuple[Site, DashboardServer]) -> None:
    site, server = served
    with httpx.Client(base_url=server.url, timeout=10) as c:
        # password spraying, claiming a new address each time
        for i in range(6):
            assert _login(c, f"nobody{i}", "wrong password!", f"203.0.113.{i}") == 401
        assert _login(c, "ada", PASSWORD, "198.51.100.7") == 429  # still this one client: refused
    failed = {row[0] for row in site.db.conn().execute(
        "SELECT address FROM dashboard_audit WHERE action = 'login_failed'")}
    assert failed == {"127.0.0.1"}  # the audit log names the real peer, not the forged one


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "dash.crt", tmp_path / "dash.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_served_over_tls_the_cookies_are_secure(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    site = make_site(tmp_path, tls_cert=cert, tls_key=key)
    server = DashboardServer(site.app, site.ctx.settings)
    server.start()
    try:
        assert server.url.startswith("https://")
        with httpx.Client(base_url=server.url, timeout=10, verify=ssl.create_default_context(cafile=cert)) as c:
            token = form_token(c.get("/login").text)
            r = c.post("/login", data={"csrf_token": token, "username": "ada", "password": PASSWORD})
            assert r.status_code == 303
            cookie = r.headers["set-cookie"]
            assert "houqin_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
            assert r.headers["strict-transport-security"].startswith("max-age=")
            assert c.get("/api/ping").status_code == 200
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port gets nothing
            httpx.get(server.url.replace("https://", "http://") + "/login", timeout=5).raise_for_status()
    finally:
        server.stop()
        site.close()
