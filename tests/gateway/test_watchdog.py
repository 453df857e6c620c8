"""systemd's watchdog: sd_notify over a real unix datagram socket, and 'healthy' from ingest's stats."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.clock import ManualClock
from gateway.watchdog import Watchdog, ingest_health, sd_notify, stall_limit, watchdog_interval


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """What systemd listens on: a unix datagram socket."""
    path = str(tmp_path / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(2)
    yield path, s
    s.close()


def received(s: socket.socket) -> list[str]:
    out = []
    s.setblocking(False)
    try:
        while True:
            out.append(s.recv(256).decode())
    except BlockingIOError:
        pass
    s.settimeout(2)
    return out


def test_sd_notify_sends_one_datagram(notify_socket: tuple[str, socket.socket]) -> None:
    path, s = notify_socket
    assert sd_notify("READY=1", path)
    assert s.recv(256) == b"READY=1"


def test_sd_notify_without_systemd_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not sd_notify("READY=1")


def test_sd_notify_to_a_missing_socket_is_false(tmp_path: Path) -> None:
    assert not sd_notify("READY=1", str(tmp_path / "gone"))


def test_interval_is_half_of_watchdog_sec() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "120000000"}) == 60.0
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "x"}) is None


def test_health_rules() -> None:
    assert ingest_health({"queue_depth": 0, "last_commit": None}, 1000.0, 0.0, stall_after=60).ok
    assert ingest_health({"queue_depth": 5, "last_commit": 990.0}, 1000.0, 0.0, stall_after=60).ok
    stalled = ingest_health({"queue_depth": 5, "last_commit": 900.0}, 1000.0, 0.0, stall_after=60)
    assert not stalled.ok and "5 message(s) queued" in stalled.reason
    # never committed: counted from the start
    assert ingest_health({"queue_depth": 1, "last_commit": None}, 1000.0, 990.0, stall_after=60).ok
    assert not ingest_health({"queue_depth": 1, "last_commit": None}, 1000.0, 900.0, stall_after=60).ok
    # one message stuck while others commit (a poison message never acked) is no progress either
    stuck = ingest_health({"queue_depth": 1, "last_commit": 999.0, "oldest_unacked": 900.0}, 1000.0, 0.0,
                          stall_after=60)
    assert not stuck.ok and "waited 100 s" in stuck.reason


def test_pings_only_while_ingest_makes_progress(notify_socket: tuple[str, socket.socket]) -> None:
    path, s = notify_socket
    clock = ManualClock(1000.0)
    stats: dict[str, Any] = {"queue_depth": 0, "last_commit": None}
    dog = Watchdog(lambda: stats, clock, every=None, stall_after=60, socket_path=path)
    dog.start()
    assert s.recv(256) == b"READY=1"
    assert dog.tick().ok
    assert s.recv(256) == b"WATCHDOG=1"
    stats.update(queue_depth=3, last_commit=1000.0)
    clock.set(1100.0)
    assert not dog.tick().ok
    assert received(s) == []  # no ping: systemd restarts the service after WatchdogSec
    stats.update(last_commit=1100.0)
    assert dog.tick().ok
    assert received(s) == ["WATCHDOG=1"]
    dog.stop()
    assert s.recv(256) == b"STOPPING=1"


def test_a_message_waiting_out_its_commit_window_is_no_stall() -> None:
    # With the default 60 s window a message waits up to a minute for its commit by design: /healthz and the
    # systemd watchdog (both through ingest_health) must not call that a stall; a fixed 60 s limit did.
    now = 1000.0
    waiting = {"oldest_unacked": now - 61.0, "queue_depth": 0, "last_commit": now - 61.0}
    assert ingest_health(waiting, now, 0.0, stall_after=stall_limit(60.0)).ok
    assert not ingest_health({**waiting, "oldest_unacked": now - 121.0}, now, 0.0, stall_after=stall_limit(60.0)).ok
