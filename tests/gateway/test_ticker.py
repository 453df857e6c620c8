"""The shared ticker thread: ticks until stopped and survives a failing tick."""

from __future__ import annotations

import threading

import pytest

from gateway.ticker import Ticker
from tests.waiting import wait_for


def test_ticks_until_stopped_and_survives_a_failing_tick(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def tick() -> None:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise RuntimeError("first tick breaks")

    ticker = Ticker(tick, 0.01, "houqin-test-tick")
    ticker.start()
    ticker.start()  # a second start does not add a second thread
    try:
        wait_for(lambda: len(calls) >= 3, "three ticks, the first of them failing")
        assert ticker.running
    finally:
        ticker.stop()
    assert not ticker.running
    assert set(calls) == {"houqin-test-tick"}
    assert "houqin-test-tick: tick failed" in caplog.text
    assert "first tick breaks" in caplog.text


def test_stop_without_start_is_harmless() -> None:
    ticker = Ticker(lambda: None, 1.0, "houqin-idle")
    ticker.stop()
    assert not ticker.running
