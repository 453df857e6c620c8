"""The agent's cached card list: the same decision as the gateway, kept across a restart, junk refused."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.card_rules import decide
from gateway.gate.service import Gate
from sensors.cardcache import CACHE_NAME, CardCache
from tests.gate.helpers import WED_10, gate_config, local


def test_cached_list_decides_like_the_gateway_and_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(WED_10)
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    gate = Gate(gate_config(tmp_path), db, clock)
    gate.cards.add("AA01", "Teacher Li", "staff", days="12345", hours="07:00-18:00")
    gate.cards.add("CC01", "Plumber", "contractor", valid_until="2026-11-18")
    payload = gate.access.card_list_payload()
    assert b"AA01" not in payload and b"Teacher Li" not in payload  # the broker carries hashes only

    path = tmp_path / "agent" / CACHE_NAME
    path.parent.mkdir()
    cache = CardCache("kg", path)
    assert cache.decide("reader", "AA01", WED_10) is None  # no list yet
    assert cache.update(payload)
    cases = [("AA01", WED_10), ("AA01", local(2026, 11, 18, 22)), ("AA01", local(2026, 11, 21, 10)),
             ("CC01", WED_10), ("CC01", local(2026, 11, 19, 10)), ("ZZ99", WED_10)]
    again = CardCache("kg", path)  # a restart during the outage
    for uid, ts in cases:
        card = gate.cards.by_uid(uid)
        expected = decide(card.rule if card else None, ts, gate.tz)
        for c in (cache, again):
            d = c.decide("reader", uid, ts)
            assert d is not None and (d.accepted, d.reason) == expected
    d = again.decide("reader", "AA01", WED_10)
    assert d is not None and (d.relay, d.seconds) == ("gate", 3.0)
    assert again.decide("exit-reader", "AA01", WED_10).relay is None  # type: ignore[union-attr]
    db.close()


def test_junk_list_is_ignored_and_the_last_good_one_kept(tmp_path: Path) -> None:
    path = tmp_path / CACHE_NAME
    good = {"cards": {}, "readers": {"reader": "gate"}, "timezone": "Asia/Shanghai", "relay_seconds": 3}
    cache = CardCache("kg", path)
    assert cache.update(json.dumps(good).encode())
    assert not cache.update(b"not json")
    assert not cache.update(json.dumps({"cards": []}).encode())
    assert not cache.update(json.dumps({**good, "timezone": "Mars/Olympus"}).encode())
    assert json.loads(path.read_bytes()) == good
    path.write_text("{broken")
    assert not CardCache("kg", path).loaded  # logged; waits for the gateway's next list
    cache.gateway_status(b"offline")
    assert cache.gateway_online is False
    cache.gateway_status(b"online")
    assert cache.gateway_online is True
