"""Ingest takes the events-DB write lock only after the time-series write, and still acks only after both
(a window whose messages change nothing in the events DB does not touch it)."""

from __future__ import annotations

from pathlib import Path

from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.deadletters import DeadLetters
from gateway.eventsdb import EventsDB, connect
from gateway.ingest import Ingest
from gateway.mqtt_link import InboundMessage
from gateway.store.sqlite import SqliteStore
from tests.waiting import COMMIT_WINDOW, wait_for

T0 = 1_790_000_000.0


def test_store_write_does_not_wait_for_the_events_db_and_the_ack_waits_for_both(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    store = SqliteStore(tmp_path / "ts.db")
    cfg = parse_config({"site": {"id": "kg"}, "mqtt": {"url": "mqtt://127.0.0.1:1"},
                        "storage": {"dir": str(tmp_path), "commit_interval": COMMIT_WINDOW},
                        "devices": [{"id": "water", "kind": "water_meter"}]})
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    ing.start()
    acks: list[int] = []
    other = connect(db.path)  # another writer of the events DB (like an alert commit) holds its lock
    other.execute("BEGIN IMMEDIATE")
    try:
        for mid, total in ((1, 1000.0), (2, 1012.5)):
            ing.on_message(InboundMessage("houqin/kg/water/state", f'{{"total_l": {total}, "ts": {T0 + mid}}}'
                                          .encode(), 1, False, mid, lambda m, q: acks.append(m)))
        wait_for(lambda: len(store.query("water", "total_l", T0, T0 + 10)) == 2,
                 what="the readings in the time-series store while the events DB is locked")
        # Readings, usage and meter state are all in the time-series store: nothing waits for the events DB.
        wait_for(lambda: acks == [1, 2], what="the acks of readings that change nothing in the events DB")
        ing.on_message(InboundMessage("houqin/kg/water/event", f'{{"type": "button", "ts": {T0 + 3}}}'.encode(),
                                      1, False, 3, lambda m, q: acks.append(m)))
        assert not ing.wait_idle(0.5)
        assert acks == [1, 2]  # the event is not committed to the events DB yet: not acked
        other.execute("ROLLBACK")
        assert ing.wait_idle(30)
        assert acks == [1, 2, 3]
        usage = store.query("water", "usage_l", T0, T0 + 10)
        assert [r.value for r in usage] == [12.5]
        saved = store.load_state()  # committed with the readings, in the same transaction
        assert saved is not None and [t for d, _m, t, _ts in saved.meters if d == "water"] == [1012.5]
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        ing.stop()
        store.close()
        db.close()
