"""The outbox file itself: FIFO order, the bound dropping the oldest, counters that survive a reopen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.clock import ManualClock
from gateway.errors import StoreError
from gateway.store.outbox import Outbox, QueuedPoint, read_counts

T0 = 1_790_000_000.0


def points(start: int, n: int) -> list[QueuedPoint]:
    return [QueuedPoint(f"houqin,device=d v={i}.0 {i}", "d", i) for i in range(start, start + n)]


def test_fifo_peek_and_remove(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", max_points=100, clock=ManualClock(T0))
    box.put(points(0, 10))
    first = box.peek(4)
    assert [r.ts_ms for r in first] == [0, 1, 2, 3]
    assert box.peek(4) == first  # peeking does not consume
    assert box.remove(first) == 4
    assert [r.ts_ms for r in box.peek(100)] == list(range(4, 10))
    c = box.counts()
    assert (c.depth, c.sent, c.oldest_ts_ms, c.oldest_queued_at) == (6, 4, 4, T0)
    box.close()


def test_bound_drops_the_oldest_and_counts_them_across_a_reopen(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    box = Outbox(tmp_path / "outbox.db", max_points=25, clock=clock)
    assert box.put(points(0, 20)) == 0
    clock.advance(60)
    assert box.put(points(20, 20)) == 15
    assert [r.ts_ms for r in box.peek(100)] == list(range(15, 40))
    box.close()
    box = Outbox(tmp_path / "outbox.db", max_points=25, clock=clock)
    c = box.counts()
    assert (c.depth, c.dropped) == (25, 15)
    assert box.put(points(40, 5)) == 5
    assert box.counts().dropped == 20
    box.close()
    # Another process (houqin storage status) reads the same numbers.
    with sqlite3.connect(tmp_path / "outbox.db") as conn:
        c = read_counts(conn)
    assert (c.depth, c.dropped, c.oldest_ts_ms) == (25, 20, 20)


def test_a_peeked_batch_partly_dropped_meanwhile_is_removed_without_harm(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", max_points=10, clock=ManualClock(T0))
    box.put(points(0, 10))
    batch = box.peek(5)
    box.put(points(10, 3))  # drops 0..2 while the batch is "in flight"
    assert box.remove(batch) == 2  # only 3 and 4 were still there
    assert box.counts().depth == 8
    assert [r.ts_ms for r in box.peek(100)] == list(range(5, 13))
    box.close()


def test_rejected_points_are_kept_locally_when_asked(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", max_points=10, clock=ManualClock(T0))
    box.put(points(0, 3))
    bad = box.peek(3)[1]
    box.reject(bad, 400, "field type conflict", keep=True)
    assert [r.ts_ms for r in box.peek(10)] == [0, 2]
    assert box.rejected() == [(T0, "d", bad.line, 400, "field type conflict")]
    assert box.counts().rejected == 1
    box.close()


def test_unusable_path_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"outbox.*nope"):
        Outbox(tmp_path / "nope" / "outbox.db", max_points=10)


def test_points_are_kept_as_the_embedded_store_keeps_readings_and_transitions_as_alerts(tmp_path: Path) -> None:
    # Readings: no fsync per commit and no zeroed pages for sent points (what wears an SD card); the uplink's
    # alert transitions: synced at every commit, as the events database keeps alerts.
    points_box = Outbox(tmp_path / "outbox.db", max_points=10, clock=ManualClock(T0))
    messages = Outbox(tmp_path / "uplink.db", max_points=10, clock=ManualClock(T0), sync_every_commit=True)
    assert points_box._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert points_box._conn.execute("PRAGMA secure_delete").fetchone()[0] == 0
    assert messages._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    points_box.close()
    messages.close()
