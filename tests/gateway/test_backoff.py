"""The one retry-delay helper: exponential, capped, jittered on request, and a wait that ends on stop."""

from __future__ import annotations

import random
import threading

import pytest

from gateway.backoff import Backoff


def test_delays_double_up_to_the_cap_and_reset() -> None:
    b = Backoff(0.5, 3.0)
    assert [b.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert b.failures == 5
    b.reset()
    assert b.next_delay() == 0.5


def test_jitter_only_shortens_and_follows_the_rng() -> None:
    a, b = Backoff(1.0, 300.0, jitter=0.5, rng=random.Random(7)), Backoff(1.0, 300.0, jitter=0.5, rng=random.Random(7))
    seq = [a.delay(n) for n in range(1, 12)]
    assert seq == [b.delay(n) for n in range(1, 12)]
    for n, d in enumerate(seq, start=1):
        nominal = min(300.0, 2.0 ** (n - 1))
        assert nominal / 2 <= d <= nominal


def test_a_very_long_outage_stays_at_the_cap() -> None:
    assert Backoff(1.0, 300.0).delay(10_000) == 300.0


def test_wait_returns_at_once_when_stopping() -> None:
    stop = threading.Event()
    stop.set()
    b = Backoff(3600.0, 3600.0)
    assert b.wait(stop) is True  # an hour's delay, and the test does not hang
    assert b.failures == 1


def test_wait_without_stop_sleeps_the_delay() -> None:
    assert Backoff(0.001, 0.001).wait(threading.Event()) is False
    assert Backoff(0.001, 0.001).wait() is False


@pytest.mark.parametrize("kwargs", [{"initial": -1.0, "cap": 1.0}, {"initial": 2.0, "cap": 1.0},
                                    {"initial": 1.0, "cap": 2.0, "jitter": 1.5}, {"initial": 1.0, "cap": 2.0,
                                                                                   "factor": 0.5}])
def test_bad_settings_are_named(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**kwargs)
