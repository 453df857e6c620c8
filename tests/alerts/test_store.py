"""The alert store on a real SQLite file: one open alert per (rule, device), ack rules, filters, durability."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.alerts.model import AlertNotFoundError, AlertStateError
from gateway.alerts.store import AlertStore, OpenRequest
from gateway.eventsdb import EventsDB


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AlertStore]:
    db = EventsDB(tmp_path / "events.db")
    s = AlertStore(db)
    yield s
    s.close()
    db.close()


def req(rule: str = "fridge-warm", device: str = "kitchen-fridge", latch: bool = False) -> OpenRequest:
    return OpenRequest(rule, device, "threshold", "critical", "kitchen", "temperature", 9.0, "", 100.0, latch)


def test_one_open_alert_per_rule_and_device(store: AlertStore) -> None:
    a, new = store.open(req(), 110.0)
    b, again = store.open(req(), 120.0)
    assert new and not again and a.id == b.id
    # Enforced by the database too, not only by the code path.
    with pytest.raises(sqlite3.IntegrityError):
        store.db.conn().execute("INSERT INTO alerts (rule, device, kind, severity, state, since, opened_at) "
                                "VALUES ('fridge-warm', 'kitchen-fridge', 'threshold', 'critical', 'active', 1, 1)")
    store.end("fridge-warm", "kitchen-fridge", 130.0, 6.0)
    c, new = store.open(req(), 140.0)
    assert new and c.id != a.id


def test_ack_rules(store: AlertStore) -> None:
    a, _ = store.open(req(), 110.0)
    with pytest.raises(AlertNotFoundError):
        store.ack(999, "x", "y", 111.0)
    with pytest.raises(AlertStateError, match="--by"):
        store.ack(a.id, "  ", "note", 111.0)
    acked = store.ack(a.id, "Cook Zhang", "moved the food", 112.0)
    assert (acked.state, acked.acked_by, acked.ack_note, acked.acked_at) == ("acknowledged", "Cook Zhang",
                                                                             "moved the food", 112.0)
    with pytest.raises(AlertStateError, match="already acknowledged by Cook Zhang"):
        store.ack(a.id, "Someone", "again", 113.0)
    store.end("fridge-warm", "kitchen-fridge", 120.0)
    with pytest.raises(AlertStateError, match="already cleared"):
        store.ack(a.id, "Someone", "late", 121.0)
    assert [(e.what, e.by) for e in store.timeline(a.id)] == [("opened", None), ("acknowledged", "Cook Zhang"),
                                                               ("cleared", None)]


def test_latched_alert_clears_on_ack_after_it_ended(store: AlertStore) -> None:
    a, _ = store.open(req("gate-forced", "gate", latch=True), 100.0)
    ended = store.end("gate-forced", "gate", 105.0)
    assert ended is not None and ended.state == "active" and ended.ended_at == 105.0
    assert store.end("gate-forced", "gate", 106.0) is None  # ended once
    done = store.ack(a.id, "Guard", "checked", 110.0)
    assert done.state == "cleared" and done.cleared_at == 110.0


def test_list_filters(store: AlertStore) -> None:
    old, _ = store.open(req("r1", "d1"), 100.0)
    store.end("r1", "d1", 200.0)
    mid, _ = store.open(req("r2", "d1"), 300.0)
    store.end("r2", "d1", 400.0)
    cur, _ = store.open(req("r1", "d2"), 500.0)
    assert [a.id for a in store.list()] == [cur.id, mid.id, old.id]
    assert [a.id for a in store.list(open_only=True)] == [cur.id]
    assert [a.id for a in store.list(since=350.0)] == [cur.id, mid.id]  # mid was still open at 350
    assert [a.id for a in store.list(until=300.0)] == [old.id]
    assert [a.id for a in store.list(rule="r1")] == [cur.id, old.id]
    assert [a.id for a in store.list(device="d1", limit=1)] == [mid.id]


def test_writes_are_durable(store: AlertStore) -> None:
    store.open(req(), 1.0)
    conn = store._writer()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_pending_survives_reopen(tmp_path: Path) -> None:
    db = EventsDB(tmp_path / "events.db")
    s = AlertStore(db)
    s.set_pending("fridge-warm", "kitchen-fridge", 100.0, 9.1)
    s.set_pending("fridge-warm", "other", 100.0, 9.1)
    s.drop_pending("fridge-warm", "other")
    s.close()
    db.close()
    db = EventsDB(tmp_path / "events.db")
    s = AlertStore(db)
    try:
        assert s.pending() == {("fridge-warm", "kitchen-fridge"): (100.0, 9.1)}
    finally:
        s.close()
        db.close()
