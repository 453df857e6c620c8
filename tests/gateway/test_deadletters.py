from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.clock import ManualClock
from gateway.deadletters import EXCERPT_CHARS, DeadLetters, excerpt
from gateway.eventsdb import EventsDB


@pytest.fixture
def dl(tmp_path: Path) -> DeadLetters:
    return DeadLetters(EventsDB(tmp_path / "events.db"), ManualClock(1_790_000_000.0))


def test_excerpt_is_bounded_and_safe() -> None:
    assert excerpt(b"\xff\xfe\x00") == "\\xff\\xfe\x00"
    big = excerpt(b"A" * (1 << 20))
    assert len(big) == EXCERPT_CHARS + 1 and big.endswith("…")
    assert excerpt("温度".encode()) == "温度"


def test_record_counts_and_recent(dl: DeadLetters, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.deadletters"):
        for _ in range(5):
            dl.record("houqin/kg/f/state", "not_json", b"{", device="f", detail="bad")
        dl.record("houqin/kg/f/state", "out_of_range", b"{}", device="f")
        dl.record("houqin/kg/x/state", "unknown_device", b"{}", device="x")
    assert dl.counts() == {"not_json": 5, "out_of_range": 1, "unknown_device": 1}
    assert dl.stored_counts() == dl.counts()
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 3  # once per (device, reason)
    recent = dl.recent(limit=2)
    assert [(d.device, d.reason) for d in recent] == [("f", "out_of_range"), ("x", "unknown_device")]
    assert dl.recent(since=1_790_000_001.0) == []
