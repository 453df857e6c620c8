"""The live hub's memory stays bounded under an ingest flood: nobody connected, a stalled client, a busy loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from dashboard import live
from dashboard.accounts import Accounts
from dashboard.live import LiveHub, LiveMessage
from dashboard.passwords import unmatchable_hash
from gateway.alerts.model import Alert, AlertChange
from gateway.config import Config, parse_config
from gateway.eventsdb import EventsDB
from gateway.model import Availability, CommittedBatch, Event, Reading
from tests.dashboard.helpers import DEVICES, cheap_hasher

FRIDGES = ("fridge-1", "freezer-1")


def _config() -> Config:
    return parse_config({"site": {"id": "t"}, "devices": DEVICES})


def _flood(hub: LiveHub, batches: int, per_batch: int = 50, t0: float = 1_000_000.0) -> float:
    """Readings of two fridges, ``per_batch`` each per batch; returns the last timestamp."""
    ts = t0
    for _ in range(batches):
        readings = []
        for _ in range(per_batch):
            ts += 0.01
            readings += [Reading(ts, d, "temperature", ts) for d in FRIDGES]
        hub.on_batch(CommittedBatch(readings=tuple(readings)))
    return ts


def test_nobody_connected_keeps_nothing() -> None:
    async def main() -> None:
        hub = LiveHub(_config())
        hub.bind(asyncio.get_running_loop())
        _flood(hub, 200)
        hub.publish(LiveMessage("gate_card", {"uid": "x"}), "gate")
        assert hub.stats()["pending"] == 0 and hub.stats()["sent"] == 0
        await asyncio.sleep(0)
        assert hub.stats()["sent"] == 0

    asyncio.run(main())


def test_a_stalled_client_gets_the_newest_readings_and_every_recent_alert() -> None:
    async def main() -> None:
        hub = LiveHub(_config())
        hub.bind(asyncio.get_running_loop())
        sub = hub.subscribe(None)
        last = 0.0
        for round_ in range(20):
            last = _flood(hub, 20, t0=1_000_000.0 + round_ * 100)
            hub.on_batch(CommittedBatch(events=tuple(Event(last, "reader", "card", {"uid": f"{round_}-{i}"})
                                                     for i in range(40)),
                                        availability=(Availability(last, "gate", True),)))
            await asyncio.sleep(0)  # the loop flushes into the client's backlog, which nobody reads
        alert = Alert(id=7, rule="too-warm", device="fridge-1", kind="threshold", severity="major",
                      state="active", chain=None, metric="temperature", value=9.0, detail="9 °C", since=last,
                      opened_at=last)
        hub.on_alert_change(AlertChange("opened", alert))
        await asyncio.sleep(0)
        # two coalesced readings and at most QUEUE_SIZE other messages, however much arrived
        assert sub.waiting <= len(FRIDGES) + live.QUEUE_SIZE
        assert sub.dropped == 20 * 41 + 1 - live.QUEUE_SIZE
        got = []
        while sub.waiting:
            msg = await sub.get()
            assert msg is not None
            got.append(msg)
        readings = {m.data["device"]: m.data["value"] for m in got if m.event == "reading"}
        assert readings == {d: pytest.approx(last) for d in FRIDGES}
        assert sum(1 for m in got if m.event == "reading") == len(FRIDGES)
        assert got[-1].event == "alert" and got[-1].data["id"] == 7  # the newest is never the one dropped
        cards = [m.data["data"]["uid"] for m in got if m.event == "event"]
        assert cards[-1] == "19-39" and len(cards) == len(set(cards))
        hub.close()
        await asyncio.sleep(0)
        assert await sub.get() is None

    asyncio.run(main())


def test_an_area_filter_keeps_other_areas_out() -> None:
    async def main() -> None:
        hub = LiveHub(_config())
        hub.bind(asyncio.get_running_loop())
        guard = hub.subscribe(frozenset({"gate"}))
        _flood(hub, 5)
        hub.on_batch(CommittedBatch(readings=(Reading(1.0, "gate", "contact", 1.0),)))
        await asyncio.sleep(0)
        msg = await guard.get()
        assert msg is not None and msg.data["device"] == "gate" and guard.waiting == 0

    asyncio.run(main())


def test_ingest_never_waits_for_a_busy_loop_and_its_buffer_is_bounded() -> None:
    async def main() -> None:
        hub = LiveHub(_config())
        hub.bind(asyncio.get_running_loop())
        sub = hub.subscribe(None)

        def ingest() -> None:  # the writer thread while the loop is busy (it runs nothing until joined)
            _flood(hub, 500)
            for i in range(5000):
                hub.on_batch(CommittedBatch(events=(Event(float(i), "reader", "card", {"uid": str(i)}),)))

        t = threading.Thread(target=ingest)
        t.start()
        t.join()  # blocks the loop on purpose
        st = hub.stats()
        assert st["pending"] <= live.PENDING_SIZE + len(FRIDGES)
        assert st["dropped"] == 5000 - live.PENDING_SIZE and st["coalesced"] > 0
        await asyncio.sleep(0)
        assert hub.stats()["pending"] == 0
        assert sub.waiting <= live.QUEUE_SIZE + len(FRIDGES)

    asyncio.run(main())


class CountingHasher(PasswordHasher):
    """Counts hashes computed."""

    hashed = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        CountingHasher.hashed += 1
        return super().hash(password, salt=salt)


def test_accounts_start_without_hashing_and_unknown_users_cost_a_full_check(tmp_path: Path) -> None:
    db = EventsDB(tmp_path / "events.db")
    try:
        CountingHasher.hashed = 0
        accounts = Accounts(db, hasher=CountingHasher(time_cost=1, memory_cost=1024, parallelism=1))
        assert CountingHasher.hashed == 0  # no 64 MiB argon2id run at start-up
        assert accounts.authenticate("nobody", "whatever-password") is None
    finally:
        db.close()
    for hasher in (PasswordHasher(), cheap_hasher()):
        dummy = unmatchable_hash(hasher)
        assert not hasher.check_needs_rehash(dummy)  # the same parameters: the same cost as a real hash
        assert unmatchable_hash(hasher) != dummy  # random salt and digest each time
    cheap = cheap_hasher()
    with pytest.raises(VerifyMismatchError):  # a real (failing) check, not a malformed-hash shortcut
        cheap.verify(unmatchable_hash(cheap), "whatever-password")
