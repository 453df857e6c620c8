"""Poison messages: whatever a payload makes a decoder raise, it is dead-lettered and acked, and ingest goes on.

Before: 1,000 deeply nested payloads each raised RecursionError on the network thread, were never
acked, filled the broker's receive window (1,000) and stopped ingest for good.
"""

from __future__ import annotations

import logging

import pytest

from gateway import contract
from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.mqtt_link import RECEIVE_MAXIMUM
from tests.faults.conftest import flood
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.gateway.ingest_helpers import stored_values as values
from tests.waiting import wait_for

NESTED = b'{"temperature": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # 10 KB, within the size limit
#: (topic, payload, the reason it is dead-lettered with)
POISON: list[tuple[str, bytes, str]] = [
    (contract.state_topic(SITE, "fridge-1"), NESTED, "not_json"),
    (contract.event_topic(SITE, "reader"), b'{"type": "card", "uid": ' + b"[" * 5000 + b"]" * 5000 + b"}",
     "not_json"),
    ("zigbee2mqtt/z-fridge", NESTED, "not_json"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": 1' + b"0" * 400 + b"}", "out_of_range"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": 4.0, "ts": 1' + b"0" * 400 + b"}", "out_of_range"),
    ("zigbee2mqtt/z-fridge", b'{"temperature": 1' + b"0" * 400 + b"}", "out_of_range"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": 1' + b"0" * 5000 + b"}", "not_json"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": "\xff\xfe"}', "bad_utf8"),
    ("zigbee2mqtt/z-fridge", b"\xc3\x28", "bad_utf8"),
    (contract.state_topic(SITE, "fridge-1"), b"[1, 2, 3]", "not_object"),
    (contract.state_topic(SITE, "fridge-1"), b'"4.2"', "not_object"),
    (contract.state_topic(SITE, "fridge-1"), b"null", "not_object"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": NaN}', "not_finite"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": Infinity}', "not_finite"),
    (contract.state_topic(SITE, "fridge-1"), b'{"temperature": 4.0, "ts": -Infinity}', "not_finite"),
    ("boiler/temp", b"NaN", "not_finite"),
    ("boiler/temp", b"1e999", "not_finite"),
]


def test_poison_past_the_receive_window_then_valid_messages_are_stored(
        gateway: Gateway, pub: Publisher, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    n = RECEIVE_MAXIMUM + 200  # more than the broker lets us hold unacked: one stuck message each would stall
    messages = [POISON[i % len(POISON)] for i in range(n)]
    caplog.set_level(logging.WARNING)
    flood(pub, [(t, p) for t, p, _ in messages])
    t = clock.now()
    pub.state("fridge-1", {"temperature": 4.2}, ts=t - 3, seq=1)
    pub.send("zigbee2mqtt/z-fridge", b'{"temperature": 3.5}')
    pub.send("boiler/temp", b"61.5")

    wait_for(lambda: values(gateway, "boiler", "temperature", clock) == [61.5], timeout=60,
             what="the valid messages after the poison")
    assert gateway.ingest.wait_idle(10)
    assert values(gateway, "fridge-1", "temperature", clock) == [4.2]
    assert values(gateway, "z-fridge", "temperature", clock) == [3.5]
    stats = gateway.ingest.stats()
    assert stats["acked"] == stats["received"] >= n + 3  # (and the gateway's own "online")
    expected: dict[str, int] = {}
    for _, _, reason in messages:
        expected[reason] = expected.get(reason, 0) + 1
    assert gateway.dead_letters.counts() == expected
    assert gateway.dead_letters.stored_counts() == expected
    # No traceback per bad message: at most one line per configured device and reason.
    assert not [r for r in caplog.records if r.exc_info]
    # The manual clock stands still while the commit window passes in real time: timesync says the clock
    # "jumped back"; that is the test's clock, not the poison.
    said = [r for r in caplog.records if r.name != "gateway.timesync"]
    assert len(said) <= len({(t, r) for t, _, r in POISON})
