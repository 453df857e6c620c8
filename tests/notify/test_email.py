"""E-mail over a real SMTP server (aiosmtpd): plain, STARTTLS and SSL, with login."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.notify.config import EmailChannel
from gateway.notify.email import EmailDelivery
from gateway.notify.message import Message
from tests.mosquitto import free_port
from tests.notify.receivers import SmtpServer

MESSAGE = Message("[ALERT] Kitchen fridge: 温度高于 8 °C", "line 1\n确认: houqin ack 7", "**x**")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return key, crt


def server_ctx(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[1]), str(cert[0]))
    return ctx


def client_ctx(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[1]))


def channel(port: int, **kw: Any) -> EmailChannel:
    return EmailChannel.model_validate({"type": "email", "host": "127.0.0.1", "port": port, "from": "gw@kg.example",
                                        "to": ["cook@kg.example", "head@kg.example"], **kw})


def test_plain(smtp: SmtpServer) -> None:
    assert EmailDelivery("m", channel(smtp.port, security="none")).send(MESSAGE).sent
    [msg] = smtp.messages
    assert msg["To"] == "cook@kg.example, head@kg.example" and msg["From"] == "gw@kg.example"
    assert "温度高于" in str(msg["Subject"]) or "=?utf-8?" in str(msg["Subject"])
    assert "houqin ack 7" in msg.get_payload(decode=True).decode()


def test_starttls_with_login(cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-from-env")

    srv = SmtpServer(tls_context=server_ctx(cert), require_starttls=True, authenticator=auth, auth_require_tls=True)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret-from-env")
    try:
        ch = channel(srv.port, security="starttls", username="houqin", password_env="TEST_SMTP_PASSWORD")
        assert EmailDelivery("m", ch, tls_context=client_ctx(cert)).send(MESSAGE).sent
        # A certificate that is not trusted is a delivery failure, not a crash.
        untrusted = EmailDelivery("m", ch).send(MESSAGE)
        assert untrusted.error is not None and untrusted.error.startswith("m: SMTP 127.0.0.1")
    finally:
        srv.close()
    assert seen[0] == (b"houqin", b"s3cret-from-env")
    assert len(srv.messages) == 1


def test_ssl(cert: tuple[Path, Path]) -> None:
    srv = SmtpServer(ssl_context=server_ctx(cert))
    try:
        assert EmailDelivery("m", channel(srv.port, security="ssl"), tls_context=client_ctx(cert)).send(MESSAGE).sent
    finally:
        srv.close()
    assert len(srv.messages) == 1


def test_missing_password_env_is_a_clear_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_SMTP_MISSING", raising=False)
    ch = channel(free_port(), username="u", password_env="TEST_SMTP_MISSING")
    result = EmailDelivery("m", ch).send(MESSAGE)
    assert result.error is not None and "TEST_SMTP_MISSING" in result.error


def test_default_ports() -> None:
    assert channel(25, security="ssl").effective_port == 25
    assert EmailChannel.model_validate({"type": "email", "host": "h", "from": "a@b", "to": ["c@d"]}).effective_port \
        == 587


def test_smtp_down_is_a_failed_delivery() -> None:
    result = EmailDelivery("m", channel(free_port(), security="none", timeout=2)).send(MESSAGE)
    assert not result.sent and result.channel == "m"

