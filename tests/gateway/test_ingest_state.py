"""Ingest's meter and seq state lives with the readings: migrated once from the events database, then
committed in the store's (or the InfluxDB outbox's) own transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.deadletters import DeadLetters
from gateway.device_status import device_status
from gateway.eventsdb import EventsDB
from gateway.ingest import Ingest
from gateway.mqtt_link import InboundMessage
from gateway.store.ingest_state import IngestState
from gateway.store.outbox import Outbox, QueuedPoint
from gateway.store.sqlite import SqliteStore
from tests.waiting import COMMIT_WINDOW

T0 = 1_790_000_000.0


def _config(tmp_path: Path, device: str, kind: str) -> Config:
    return parse_config({"site": {"id": "kg"}, "mqtt": {"url": "mqtt://127.0.0.1:1"},
                         "storage": {"dir": str(tmp_path), "commit_interval": COMMIT_WINDOW},
                         "devices": [{"id": device, "kind": kind}]})


def _message(mid: int, payload: str, channel: str = "state") -> InboundMessage:
    return InboundMessage(f"houqin/kg/water/{channel}", payload.encode(), 1, False, mid, lambda m, q: None)


def test_state_of_the_events_db_is_read_once_then_kept_in_the_store(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    conn = db.conn()  # what an older Houqin left in the events database
    conn.execute("INSERT INTO meter_state (device, metric, total, ts) VALUES ('water', 'total_l', 1000.0, ?)",
                 (T0,))
    conn.execute("INSERT INTO device_seq (device, seq, ts) VALUES ('water', 7, ?)", (T0,))
    store = SqliteStore(tmp_path / "ts.db")
    cfg = _config(tmp_path, "water", "water_meter")
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    ing.start()
    try:
        ing.on_message(_message(1, f'{{"total_l": 1010.0, "ts": {T0 + 5}, "seq": 7}}'))  # seen: a duplicate
        ing.on_message(_message(2, f'{{"total_l": 1012.5, "ts": {T0 + 10}, "seq": 8}}'))
        assert ing.wait_idle(30)
        assert [r.value for r in store.query("water", "usage_l", T0, T0 + 60)] == [12.5]
        saved = store.load_state()
        assert saved is not None
        assert [(d, m, t) for d, m, t, _ in saved.meters] == [("water", "total_l", 1012.5)]
        assert [(d, s) for d, s, _ in saved.seqs] == [("water", 8)]
        # The events database's copy is no longer written.
        assert conn.execute("SELECT total FROM meter_state").fetchall() == [(1000.0,)]
        assert conn.execute("SELECT seq FROM device_seq").fetchall() == [(7,)]
    finally:
        ing.stop()
    conn.execute("UPDATE meter_state SET total = 5.0")  # never read again: the store holds the state
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    ing.start()
    try:
        ing.on_message(_message(3, f'{{"total_l": 1020.0, "ts": {T0 + 20}, "seq": 9}}'))
        assert ing.wait_idle(30)
        assert [r.value for r in store.query("water", "usage_l", T0, T0 + 60)] == [12.5, 7.5]
    finally:
        ing.stop()
        store.close()
        db.close()


def test_an_event_whose_readings_were_committed_is_still_stored(tmp_path: Path) -> None:
    """The seq of messages carrying events is kept with the events: a crash between the store's commit
    and the events database's must not make the redelivered event a duplicate."""
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    store = SqliteStore(tmp_path / "ts.db")
    # As left by a crash between the two commits: seq 3 committed with the readings only.
    store.write([], IngestState(seqs=(("water", 3, T0 + 3),)))
    cfg = _config(tmp_path, "water", "water_meter")
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    ing.start()
    try:
        ing.on_message(_message(1, f'{{"type": "button", "ts": {T0 + 3}, "seq": 3}}', "event"))
        ing.on_message(_message(2, f'{{"type": "button", "ts": {T0 + 3}, "seq": 3}}', "event"))  # again
        assert ing.wait_idle(30)
        rows = db.conn().execute("SELECT device, type FROM device_events").fetchall()
        assert rows == [("water", "button")]
        assert ing.stats()["duplicates"] == 1
    finally:
        ing.stop()
        store.close()
        db.close()


def test_the_influx_outbox_commits_the_state_with_its_points(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db", max_points=10)
    assert box.load_state() is None
    box.put([QueuedPoint("m,device=water total_l=1.0 1000", "water", 1000)],
            IngestState((("water", "total_l", 1.0, 1.0),), (("water", 2, 1.0),)))
    box.put([], IngestState(seen=(("water", 5.0, 4.0),)))
    box.put([], IngestState(seen=(("water", 3.0, None),)))  # never back in time
    box.close()
    again = Outbox(tmp_path / "outbox.db", max_points=10)
    try:
        assert again.load_state() == IngestState((("water", "total_l", 1.0, 1.0),), (("water", 2, 1.0),))
        assert again.seen() == (("water", 5.0, 4.0),)
        assert again.depth() == 1
    finally:
        again.close()


def test_seqs_of_readings_with_their_own_time_are_saved_at_stop(tmp_path: Path) -> None:
    """Their seqs wait (a redelivery overwrites its own row) but are committed when ingest stops, so a message
    sent again after a restart is still known."""
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    store = SqliteStore(tmp_path / "ts.db")
    cfg = _config(tmp_path, "fridge", "fridge")

    def fridge(mid: int, payload: str) -> InboundMessage:
        return InboundMessage("houqin/kg/fridge/state", payload.encode(), 1, False, mid, lambda m, q: None)

    try:
        first = '{"temperature": 4.0, "ts": %s, "seq": 1}' % (T0 + 1)
        ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
        ing.start()
        ing.on_message(fridge(1, first))
        assert ing.wait_idle(30)
        ing.stop()
        ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
        ing.start()
        ing.on_message(fridge(2, first))  # sent again after the restart
        ing.on_message(fridge(3, '{"temperature": 4.5, "ts": %s, "seq": 2}' % (T0 + 2)))
        assert ing.wait_idle(30)
        ing.stop()
        assert ing.stats()["duplicates"] == 1
        assert [r.value for r in store.query("fridge", "temperature", T0, T0 + 60)] == [4.0, 4.5]
        saved = store.load_state()
        assert saved is not None and [(d, s) for d, s, _ in saved.seqs] == [("fridge", 2)]
    finally:
        store.close()
        db.close()


def test_a_reading_writes_nothing_to_the_events_database_and_its_times_are_saved_with_the_readings(
        tmp_path: Path) -> None:
    """A fridge's last-seen times are kept in memory and saved in the store's file, one write beside a commit
    window's: in the events database each save was a synchronous commit of its own on the card. Readers
    merge them with the availability and the times an older release left in the events database."""
    clock = ManualClock(T0)
    db = EventsDB(tmp_path / "events.db")
    db.conn().execute(  # what an older release left: the later time counts
        "INSERT INTO device_status (device, last_seen, online, online_since, last_data) VALUES "
        "('fridge', ?, 1, ?, ?), ('gone', ?, 0, ?, NULL)", (T0 - 600, T0 - 900, T0 - 600, T0 - 900, T0 - 900))
    watcher = sqlite3.connect(tmp_path / "events.db")
    version = watcher.execute("PRAGMA data_version").fetchone()[0]
    store = SqliteStore(tmp_path / "ts.db")
    cfg = _config(tmp_path, "fridge", "fridge")
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    ing.start()
    try:
        ing.on_message(InboundMessage("houqin/kg/fridge/state", b'{"temperature": 4.0}', 1, False, 1,
                                      lambda m, q: None))
        assert ing.wait_idle(30)
    finally:
        ing.stop()
    try:
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version, "the events database was written"
        assert store.seen() == (("fridge", T0, T0),)
        status = device_status(db, store)
        assert (status["fridge"].last_seen, status["fridge"].last_data) == (T0, T0)
        assert (status["fridge"].online, status["fridge"].online_since) == (True, T0 - 900)
        assert (status["gone"].last_seen, status["gone"].online, status["gone"].last_data) == (T0 - 900, False, None)
        store.close()
        store = SqliteStore(tmp_path / "ts.db")  # as another process (houqin query) reads it
        assert device_status(db, store)["fridge"].last_data == T0
    finally:
        watcher.close()
        store.close()
        db.close()


def test_a_store_of_the_last_release_gets_the_table_of_last_seen_times(tmp_path: Path) -> None:
    """A schema-3 file (no ``device_seen``) is upgraded once at open, as the service and ``houqin query`` open it."""
    store = SqliteStore(tmp_path / "ts.db")
    store.write([], IngestState(seqs=(("water", 2, T0),)))
    store.close()
    conn = sqlite3.connect(tmp_path / "ts.db")
    conn.executescript("DROP TABLE device_seen; PRAGMA user_version = 3;")
    conn.close()
    store = SqliteStore(tmp_path / "ts.db")
    try:
        assert store.seen() == ()
        store.write([], IngestState(seen=(("water", T0, None),)))
        assert store.seen() == (("water", T0, None),)
        assert store.load_state() == IngestState((), (("water", 2, T0),))
    finally:
        store.close()
