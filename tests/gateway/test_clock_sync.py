"""No real-time clock: until the clock is synchronised after boot, messages wait (unacknowledged) instead of being
stamped with a wrong time; a clock that jumps is logged; the last good time survives a reboot. The probe, the
uptime and the monotonic clock are injected; the broker is a real Mosquitto."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from gateway import contract
from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.timesync import BEHIND_S, LAST_GOOD_NAME, ClockWatch
from tests.gateway.ingest_helpers import SITE, Publisher, site_config
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for

BOOT_TIME = 86_400.0 * 3  # a Pi without a real-time clock wakes up in January 1970
REAL_TIME = round(time.time(), 3)


class Host:
    """What the Pi's clock looks like from inside: synchronised or not, seconds since boot, monotonic time."""

    def __init__(self, synced: bool, uptime: float) -> None:
        self.synced = synced
        self.up = uptime
        self.mono = 1000.0

    def watch(self, clock: ManualClock, data: Path) -> ClockWatch:
        return ClockWatch(clock, data, probe=lambda: self.synced, uptime=lambda: self.up,
                          monotonic=lambda: self.mono)


def test_readings_wait_for_the_clock_after_boot_and_are_stamped_with_the_right_time(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = site_config(tmp_path, mosquitto.url)
    clock = ManualClock(BOOT_TIME)
    host = Host(synced=False, uptime=20)
    gw = Gateway(cfg, clock=clock, clock_watch=host.watch(clock, cfg.storage.path))
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        pub.send(contract.state_topic(SITE, "fridge-1"), b'{"temperature": 4.5}')  # no ts of its own
        wait_for(lambda: gw.clock_gate.held == 2, "the reading (and our own birth) held")
        assert gw.ingest.stats()["acked"] == 0
        assert not gw.store.series("fridge-1")
        # NTP sets the clock
        clock.set(REAL_TIME)
        host.synced = True
        host.mono += 5
        wait_for(lambda: bool(gw.store.series("fridge-1")), "the reading stored once the clock is right")
        (series,) = gw.store.series("fridge-1")
        assert series.last_ts >= REAL_TIME  # stamped now, not in 1970
        assert gw.clock_gate.held == 0
    finally:
        pub.close()
        gw.stop()
    # the last good time survives: written when synchronised
    assert float((cfg.storage.path / LAST_GOOD_NAME).read_text()) >= REAL_TIME


def test_held_messages_are_not_acknowledged_so_a_restart_loses_none(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = site_config(tmp_path, mosquitto.url)
    clock = ManualClock(BOOT_TIME)
    host = Host(synced=False, uptime=20)
    gw = Gateway(cfg, clock=clock, clock_watch=host.watch(clock, cfg.storage.path))
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        pub.send(contract.state_topic(SITE, "fridge-1"), b'{"temperature": 4.5}')
        wait_for(lambda: gw.clock_gate.held == 2, "the reading (and our own birth) held")
    finally:
        gw.stop()  # stopped (or power cut) before the clock was set
    clock.set(REAL_TIME)
    host.synced = True
    gw = Gateway(cfg, clock=clock, clock_watch=host.watch(clock, cfg.storage.path))
    gw.start()
    try:
        wait_for(lambda: bool(gw.store.series("fridge-1")), "the reading delivered again and stored")
        assert gw.store.series("fridge-1")[0].last_ts >= REAL_TIME
    finally:
        pub.close()
        gw.stop()


def test_after_the_boot_window_an_unsynchronised_clock_is_used_unless_it_is_behind_the_last_good_time(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(REAL_TIME)
    host = Host(synced=True, uptime=5000)
    assert host.watch(clock, tmp_path).trusted()  # synchronised: the last good time is saved
    # a reboot: the clock starts from what fake-hwclock saved, hours ago, and there is no network
    host.synced, host.up = False, 5000
    clock.set(REAL_TIME - BEHIND_S - 60)
    after_reboot = host.watch(clock, tmp_path)
    assert after_reboot.last_good is not None and after_reboot.last_good >= REAL_TIME
    assert not after_reboot.trusted()  # provably wrong, however long the Pi has been up
    assert "behind the last good time" in caplog.text
    host.mono += 5
    clock.set(REAL_TIME + 60)
    assert after_reboot.trusted()  # not synchronised, but not known to be wrong either: logged, used
    assert "not synchronised (no NTP?)" in caplog.text
    fresh = Host(synced=False, uptime=30).watch(ManualClock(BOOT_TIME), tmp_path / "new")
    assert not fresh.trusted()  # just booted: wait for NTP for a while


def test_a_clock_that_jumps_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(REAL_TIME)
    host = Host(synced=True, uptime=5000)
    watch = host.watch(clock, tmp_path)
    caplog.set_level(logging.WARNING)
    watch.trusted()
    clock.advance(1)
    host.mono += 1
    watch.trusted()
    assert "jumped" not in caplog.text
    clock.advance(3600)
    host.mono += 1
    watch.trusted()
    assert "the clock jumped forward by 3599.0 s" in caplog.text
    clock.advance(-120)
    host.mono += 1
    watch.trusted()
    assert "the clock jumped back by 121.0 s" in caplog.text


def test_the_uptime_is_asked_with_the_probe_not_for_every_message(tmp_path: Path) -> None:
    # Reading /proc/uptime for every message was most of ingest's network thread on a Pi without NTP.
    asked: list[float] = []
    host = Host(synced=False, uptime=5000)

    def uptime() -> float:
        asked.append(host.up)
        return host.up

    watch = ClockWatch(ManualClock(REAL_TIME), tmp_path, probe=lambda: host.synced, uptime=uptime,
                       monotonic=lambda: host.mono)
    assert all(watch.trusted() for _ in range(1000))  # past the boot window: used, logged once
    assert len(asked) == 1
    host.mono += 5
    assert watch.trusted()
    assert len(asked) <= 2
