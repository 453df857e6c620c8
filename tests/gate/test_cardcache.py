"""The agent's cached card list: the same decision as the gateway, kept across a restart; junk, forged, altered
and replayed lists refused, keyed card digests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.clock import ManualClock
from gateway.contract import cards_topic
from gateway.eventsdb import EventsDB
from gateway.gate.card_rules import decide
from gateway.gate.service import Gate
from gateway.signing import SignatureError, Signer
from sensors.cardcache import CACHE_NAME, CardCache
from tests.gate.helpers import WED_10, gate_config, local, sealed_list

KEY = bytes(range(32))


def test_cached_list_decides_like_the_gateway_and_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(WED_10)
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    gate = Gate(gate_config(tmp_path), db, clock, command_key=KEY)
    gate.cards.add("AA01", "Teacher Li", "staff", days="12345", hours="07:00-18:00")
    gate.cards.add("CC01", "Plumber", "contractor", valid_until="2026-11-18")
    payload = sealed_list(gate)
    assert b"AA01" not in payload and b"Teacher Li" not in payload  # the broker carries hashes only

    path = tmp_path / "agent" / CACHE_NAME
    path.parent.mkdir()
    cache = CardCache("kg", path, KEY)
    assert cache.decide("reader", "AA01", WED_10) is None  # no list yet
    assert cache.update(payload)
    cases = [("AA01", WED_10), ("AA01", local(2026, 11, 18, 22)), ("AA01", local(2026, 11, 21, 10)),
             ("CC01", WED_10), ("CC01", local(2026, 11, 19, 10)), ("ZZ99", WED_10)]
    again = CardCache("kg", path, KEY)  # a restart during the outage
    for uid, ts in cases:
        card = gate.cards.by_uid(uid)
        expected = decide(card.rule if card else None, ts, gate.tz)
        for c in (cache, again):
            d = c.decide("reader", uid, ts)
            assert d is not None and (d.accepted, d.reason) == expected
    d = again.decide("reader", "AA01", WED_10)
    assert d is not None and (d.relay, d.seconds) == ("gate", 3.0)
    assert again.decide("exit-reader", "AA01", WED_10).relay is None  # type: ignore[union-attr]
    assert CardCache("kg", path, bytes(32)).loaded is False  # another site key: the saved list is not trusted
    db.close()


def test_junk_list_is_ignored_and_the_last_good_one_kept(tmp_path: Path) -> None:
    path = tmp_path / CACHE_NAME
    good = {"cards": {}, "readers": {"reader": "gate"}, "timezone": "Asia/Shanghai", "relay_seconds": 3}
    seal = Signer(KEY).seal
    cache = CardCache("kg", path, KEY)
    first = seal(cards_topic("kg"), good, 1000.0)
    assert cache.update(first)
    assert not cache.update(seal(cards_topic("kg"), {"cards": []}, 1001.0))
    assert not cache.update(seal(cards_topic("kg"), {**good, "timezone": "Mars/Olympus"}, 1001.0))
    assert path.read_bytes() == first
    path.write_text("{broken")
    assert not CardCache("kg", path, KEY).loaded  # logged; waits for the gateway's next list


def test_forged_altered_and_replayed_lists_are_refused(tmp_path: Path) -> None:
    """The attack: a retained list with the attacker's own card in it. Unsigned, or signed with another key, or
    an old genuine list (with a card since disabled) put back: all refused, and the held list decides."""
    clock = ManualClock(WED_10)
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    gate = Gate(gate_config(tmp_path), db, clock, command_key=KEY)
    card = gate.cards.add("AA01", "Teacher Li", "staff")
    old = sealed_list(gate, now=WED_10 - 60)
    gate.cards.update(card.id, disabled=True)
    cache = CardCache("kg", tmp_path / CACHE_NAME, KEY)
    assert cache.update(sealed_list(gate))
    attacker = Gate(gate_config(tmp_path / "evil"), EventsDB(tmp_path / "evil.db"), clock, command_key=bytes(32))
    attacker.cards.add("EE66", "Mallory", "staff")
    plain = json.loads(attacker.access.card_list_payload())
    forged = [
        ("unsigned", json.dumps(plain).encode()),
        ("altered", sealed_list(gate).replace(b'"disabled":true', b'"disabled":false')),
        ("altered", sealed_list(gate).replace(b'"relay_seconds":3.0', b'"relay_seconds":60')),
        ("altered", sealed_list(attacker)),  # signed with another key
        ("replayed", old),
    ]
    for reason, payload in forged:
        with pytest.raises(SignatureError) as e:
            cache.update(payload)
        assert e.value.reason == reason
    for uid in ("AA01", "EE66"):
        d = cache.decide("reader", uid, WED_10)
        assert d is not None and not d.accepted
    db.close()
