"""Observers (rules, the live dashboard) are told of a reading as soon as it arrives, before the commit
window closes; the ack still waits for the commit, and events are told after their commit."""

from __future__ import annotations

from pathlib import Path

from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.deadletters import DeadLetters
from gateway.eventsdb import EventsDB
from gateway.ingest import Ingest
from gateway.model import CommittedBatch
from gateway.mqtt_link import InboundMessage
from gateway.store.sqlite import SqliteStore
from tests.waiting import wait_for

T0 = 1_790_000_000.0


class Recorder:
    """A ``BatchObserver`` that keeps what it is told."""

    def __init__(self) -> None:
        self.batches: list[CommittedBatch] = []

    def on_batch(self, batch: CommittedBatch) -> None:
        self.batches.append(batch)


def test_a_reading_is_told_before_its_commit_and_acked_after_it(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    store = SqliteStore(tmp_path / "ts.db", fold_every=900)
    cfg = parse_config({"site": {"id": "kg"}, "mqtt": {"url": "mqtt://127.0.0.1:1"},
                        "storage": {"dir": str(tmp_path), "commit_interval": "60s"},
                        "devices": [{"id": "fridge", "kind": "fridge"}, {"id": "water", "kind": "water_meter"}]})
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    seen = Recorder()
    ing.add_observer(seen)
    ing.start()
    acks: list[int] = []
    try:
        ing.on_message(InboundMessage("houqin/kg/fridge/state", f'{{"temperature": 9.5, "ts": {T0}}}'.encode(),
                                      1, False, 1, lambda m, q: acks.append(m)))
        ing.on_message(InboundMessage("houqin/kg/water/state", f'{{"total_l": 10.0, "ts": {T0}}}'.encode(),
                                      1, False, 2, lambda m, q: acks.append(m)))
        ing.on_message(InboundMessage("houqin/kg/water/state", f'{{"total_l": 12.0, "ts": {T0 + 1}}}'.encode(),
                                      1, False, 3, lambda m, q: acks.append(m)))
        wait_for(lambda: sum(len(b.readings) for b in seen.batches) == 4, what="the readings told in the window")
        assert [(r.device, r.metric, r.value) for b in seen.batches for r in b.readings] == [
            ("fridge", "temperature", 9.5), ("water", "total_l", 10.0), ("water", "total_l", 12.0),
            ("water", "usage_l", 2.0)]
        assert acks == []  # the window is still open: nothing committed, nothing acked
        assert store.query("fridge", "temperature", T0, T0 + 10) == []
        ing.on_message(InboundMessage("houqin/kg/fridge/event", f'{{"type": "button", "ts": {T0 + 2}}}'.encode(),
                                      1, False, 4, lambda m, q: acks.append(m)))  # urgent: closes the window
        wait_for(lambda: acks == [1, 2, 3, 4], what="the acks after the commit")
        assert [r.value for r in store.query("fridge", "temperature", T0, T0 + 10)] == [9.5]
        assert ing.wait_idle(10)
        assert [e.type for b in seen.batches for e in b.events] == ["button"]
        assert sum(len(b.readings) for b in seen.batches) == 4  # not told again at the commit
    finally:
        ing.stop()
        store.close()
        db.close()
