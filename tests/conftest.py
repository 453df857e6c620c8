"""Shared fixtures: a real Mosquitto on a free port, webhook and SMTP receivers, the shared device-payload fixtures."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mosquitto import Mosquitto
from tests.notify.receivers import SmtpServer, WebhookServer

SHARED_FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
LOCAL_FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running mosquitto for one test."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.fail("mosquitto is not installed; run scripts/test (it installs it with apt-get)")
    broker = Mosquitto(_mkdir(tmp_path / "mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def hook() -> Iterator[WebhookServer]:
    """A real HTTP server on 127.0.0.1 recording the webhooks it receives."""
    server = WebhookServer()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 recording the mails it receives."""
    server = SmtpServer()
    yield server
    server.close()


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


@pytest.fixture(scope="session")
def device_payloads() -> dict[str, Any]:
    """The shared fixtures of real device payloads and bad inputs (a copy lives in tests/fixtures)."""
    for base in (SHARED_FIXTURES, LOCAL_FIXTURES):
        f = base / "device-payloads.json"
        if f.exists():
            return json.loads(f.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    pytest.fail("device-payloads.json not found in ../shared/fixtures or tests/fixtures")
