"""Ingest without a broker: real SQLite files, messages handed to on_message, acks recorded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from gateway.clock import ManualClock
from gateway.config import Config, DeviceSettings, parse_config
from gateway.deadletters import DeadLetters
from gateway.errors import StoreError
from gateway.eventsdb import EventsDB
from gateway.ingest import Ingest
from gateway.model import Decoded, Reading
from gateway.mqtt_link import InboundMessage, topic_matches
from gateway.store.ingest_state import IngestState
from gateway.store.sqlite import SqliteStore
from tests.waiting import COMMIT_WINDOW, wait_for

T0 = 1_790_000_000.0
COLDROOM = ('{"Time":"2026-11-20T08:00:00","DS18B20-1":{"Id":"000008BD38BF","Temperature":3.1},'
            '"DS18B20-2":{"Id":"000008BD9714","Temperature":-19.4},"TempUnit":"C"}')


@pytest.mark.parametrize(("f", "topic", "match"), [
    ("a/b/c", "a/b/c", True), ("a/+/c", "a/x/c", True), ("a/+/c", "a/x/y/c", False), ("a/#", "a/x/y", True),
    ("a/#", "a", True), ("#", "a/b", True), ("+/b", "a/b/c", False), ("a/b", "a/b/c", False),
    ("+/x", "$SYS/x", False), ("a/+", "a/", True),
])
def test_topic_matches(f: str, topic: str, match: bool) -> None:
    assert topic_matches(f, topic) is match


class WildcardDecoder:
    """A minimal device format whose topic filter has a wildcard: sensors/<anything>/<device id>."""

    FORMAT = "plain"

    def topics(self, device: DeviceSettings, site: str) -> list[str]:
        return [f"sensors/+/{device.id}"]

    def decode(self, device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
        if payload == b"boom":
            raise RuntimeError("decoder bug")
        return Decoded(readings=[Reading(now, device.id, "temperature", float(payload))])


class Acks:
    def __init__(self) -> None:
        self.mids: list[int] = []

    def __call__(self, mid: int, qos: int) -> None:
        self.mids.append(mid)


class FaultyStore:
    """The real SQLite store with faults injected: the first ``fail`` writes of readings and the first
    ``fail_state`` writes of state alone fail, and value 13.0 is a bug."""

    def __init__(self, inner: SqliteStore, fail: int = 0, fail_state: int = 0) -> None:
        self.inner = inner
        self.fail = fail
        self.fail_state = fail_state

    def write(self, readings: Sequence[Reading], state: IngestState | None = None) -> None:
        if self.fail > 0 and readings:
            self.fail -= 1
            raise StoreError("disk full (injected)")
        if self.fail_state > 0 and not readings:
            self.fail_state -= 1
            raise StoreError("disk full (injected)")
        if any(r.value == 13.0 for r in readings):
            raise ValueError("unlucky value (injected bug)")
        self.inner.write(readings, state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def config(tmp_path: Path) -> Config:
    return parse_config({
        "site": {"id": "kg"},
        "mqtt": {"url": "mqtt://127.0.0.1:1"},
        "storage": {"dir": str(tmp_path), "commit_interval": COMMIT_WINDOW},
        "devices": [
            {"id": "fridge-1", "kind": "fridge"},
            {"id": "cold-a", "kind": "cold_room", "format": "tasmota", "topic": "tele/coldroom",
             "probe": "000008BD38BF"},
            {"id": "cold-b", "kind": "freezer", "format": "tasmota", "topic": "tele/coldroom",
             "probe": "000008BD9714"},
            {"id": "probe-x", "kind": "thermometer", "format": "plain", "topic": "unused", "metric": "temperature"},
        ],
    })


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Config, EventsDB, SqliteStore, DeadLetters, ManualClock]]:
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    store = SqliteStore(tmp_path / "ts.db")
    yield config(tmp_path), db, store, DeadLetters(db, clock), clock
    store.close()
    db.close()


def make(parts: Any, store: Any = None, **kw: Any) -> Ingest:
    from gateway.decoders import registry

    cfg, db, real_store, dl, clock = parts
    decoders = {**registry(), "plain": WildcardDecoder()}
    ing = Ingest(cfg, store or real_store, db, dl, clock, decoders=decoders, **kw)  # type: ignore[arg-type]
    ing.start()
    return ing


def send(ing: Ingest, acks: Acks, topic: str, payload: bytes | str, mid: int) -> None:
    body = payload.encode() if isinstance(payload, str) else payload
    ing.on_message(InboundMessage(topic, body, 1, False, mid, acks))


def temps(store: SqliteStore, device: str) -> list[float]:
    return [r.value for r in store.query(device, "temperature", T0 - 86400 * 400, T0 + 86400)]


def test_shared_topic_and_wildcards_route_to_every_device(parts: Any) -> None:
    ing = make(parts)
    store = parts[2]
    acks = Acks()
    try:
        assert "tele/coldroom/SENSOR" in ing.subscriptions() and "sensors/+/probe-x" in ing.subscriptions()
        assert "houqin/kg/+/state" in ing.subscriptions()
        send(ing, acks, "tele/coldroom/SENSOR", COLDROOM, 1)
        send(ing, acks, "sensors/kitchen/probe-x", "4.5", 2)
        send(ing, acks, "sensors/kitchen/someone-else", "4.5", 3)
        assert ing.wait_idle(10)
        assert temps(store, "cold-a") == [3.1] and temps(store, "cold-b") == [-19.4]
        assert temps(store, "probe-x") == [4.5]
        assert acks.mids == [1, 2, 3]
        assert parts[3].counts() == {"unknown_topic": 1}
    finally:
        ing.stop()


def test_acks_only_after_commit_and_in_order(parts: Any) -> None:
    ing = make(parts)
    acks = Acks()
    try:
        for i in range(50):
            send(ing, acks, "houqin/kg/fridge-1/state", f'{{"temperature": 4.0, "ts": {T0 - 100 + i}}}', i + 1)
        send(ing, acks, "houqin/kg/fridge-1/state", "not json", 51)
        assert ing.wait_idle(10)
        assert acks.mids == list(range(1, 52))
        assert len(temps(parts[2], "fridge-1")) == 50
        s = ing.stats()
        assert s["messages"] == 51 and s["readings"] == 50 and s["refused"] == {"not_json": 1}
        assert s["received"] == 51 and s["queue_depth"] == 0
    finally:
        ing.stop()


def test_transient_store_failure_is_retried_and_nothing_is_acked_before(parts: Any) -> None:
    store = FaultyStore(parts[2], fail=1)
    ing = make(parts, store=store)
    acks = Acks()
    try:
        send(ing, acks, "houqin/kg/fridge-1/state", f'{{"temperature": 4.0, "ts": {T0}}}', 1)
        wait_for(lambda: ing.stats()["commit_errors"] == 1, what="the injected failure")
        assert ing.wait_idle(10)
        assert acks.mids == [1] and temps(parts[2], "fridge-1") == [4.0]
    finally:
        ing.stop()


def test_a_message_that_trips_a_bug_is_dead_lettered_and_ingest_goes_on(parts: Any) -> None:
    ing = make(parts, store=FaultyStore(parts[2]))
    acks = Acks()
    try:
        ing.on_message(InboundMessage("sensors/a/probe-x", b"boom", 1, False, 1, acks))
        for i, v in enumerate((4.0, 13.0, 5.0)):
            send(ing, acks, "houqin/kg/fridge-1/state", f'{{"temperature": {v}, "ts": {T0 + i}}}', i + 2)
        assert ing.wait_idle(10)
        assert temps(parts[2], "fridge-1") == [4.0, 5.0]
        assert acks.mids == [1, 2, 3, 4]
        assert parts[3].counts() == {"decoder_error": 1, "internal_error": 1}
    finally:
        ing.stop()


class Boom:
    def on_batch(self, batch: Any) -> None:
        raise RuntimeError("observer bug")


def test_observer_failure_does_not_stop_ingest(parts: Any) -> None:
    ing = make(parts)
    ing.add_observer(Boom())
    acks = Acks()
    try:
        for i in range(3):
            send(ing, acks, "houqin/kg/fridge-1/state", f'{{"temperature": 4.0, "ts": {T0 + i}}}', i + 1)
            assert ing.wait_idle(10)
        assert len(temps(parts[2], "fridge-1")) == 3
    finally:
        ing.stop()


def test_backpressure_bounds_the_queue(parts: Any) -> None:
    ing = make(parts, queue_size=5, max_batch=2)
    acks = Acks()
    try:
        for i in range(40):
            send(ing, acks, "houqin/kg/fridge-1/state", f'{{"temperature": 4.0, "ts": {T0 + i}}}', i + 1)
            assert ing.stats()["queue_depth"] <= 5
        assert ing.wait_idle(10)
        assert acks.mids == list(range(1, 41)) and len(temps(parts[2], "fridge-1")) == 40
    finally:
        ing.stop()


def test_availability_since_changes_only_on_a_change(parts: Any) -> None:
    from gateway.device_status import device_status

    ing = make(parts)
    clock = parts[4]
    acks = Acks()
    try:
        for i, word in enumerate(("online", "online", "offline")):
            send(ing, acks, "houqin/kg/fridge-1/availability", word, i + 1)
            assert ing.wait_idle(10)
            if i == 0:
                first = device_status(parts[1], parts[2])["fridge-1"]
                assert first.online is True and first.online_since == T0
            clock.advance(60)
            if i == 1:
                again = device_status(parts[1], parts[2])["fridge-1"]
                assert again.online is True and again.online_since == T0 and again.last_seen == T0 + 60
                assert again.last_data is None  # availability is no reading
        last = device_status(parts[1], parts[2])["fridge-1"]
        assert last.online is False and last.online_since == T0 + 120
    finally:
        ing.stop()


def test_a_failed_save_of_last_seen_times_and_seqs_keeps_them_for_the_next(parts: Any) -> None:
    """The times and the seqs saved apart from their readings are kept in memory when the store refuses them."""
    store = parts[2]
    store.write([], IngestState())  # the state was moved here at an earlier start (no write at this one)
    ing = make(parts, store=FaultyStore(store, fail_state=1))
    acks = Acks()
    try:
        send(ing, acks, "houqin/kg/fridge-1/state", f'{{"temperature": 4.0, "ts": {T0 - 5}, "seq": 7}}', 1)
        assert ing.wait_idle(10)  # its save fails
        assert temps(store, "fridge-1") == [4.0] and store.seen() == ()
        assert ing.wait_idle(10)  # the next one saves what the failed one held
        assert store.seen() == (("fridge-1", T0, T0),)
        saved = store.load_state()
        assert saved is not None and [(d, s) for d, s, _ in saved.seqs] == [("fridge-1", 7)]
    finally:
        ing.stop()
