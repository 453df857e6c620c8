"""``seq`` out of range and refused messages: refused with a reason, and no state moves.

Before: seq 10^30 overflowed in the meter code after the message's readings were written, meter
state rolled back and the next total counted the same usage again (40 Wh for 30 Wh used); and one
refused ``{"temperature": 85.0, "seq": ...}`` moved the device's seq, so the next good readings were
dropped as duplicates.
"""

from __future__ import annotations

from gateway.app import Gateway
from gateway.clock import ManualClock
from tests.gateway.ingest_helpers import Publisher
from tests.gateway.ingest_helpers import stored_values as values
from tests.waiting import wait_for


def test_seq_out_of_range_is_refused_and_usage_is_not_doubled(gateway: Gateway, pub: Publisher,
                                                               clock: ManualClock) -> None:
    t = clock.now()
    pub.state("power", {"energy_wh": 1000.0}, ts=t - 40, seq=1)
    pub.state("power", {"energy_wh": 1010.0}, ts=t - 30, seq=10**30)
    pub.state("power", {"energy_wh": 1020.0}, ts=t - 25, seq=2**53 + 1)
    pub.send("houqin/kg/power/state", b'{"energy_wh": 1020.0, "ts": %d, "seq": -1}' % (t - 22))
    pub.send("houqin/kg/power/state", b'{"energy_wh": 1020.0, "ts": %d, "seq": 2.5}' % (t - 21))
    pub.state("power", {"energy_wh": 1030.0}, ts=t - 20, seq=2)
    wait_for(lambda: values(gateway, "power", "energy_wh", clock) == [1000.0, 1030.0], what="the good totals")
    assert gateway.ingest.wait_idle(10)
    assert values(gateway, "power", "usage_wh", clock) == [30.0]
    assert gateway.dead_letters.counts() == {"bad_seq": 2, "wrong_type": 2}
    bad = [d for d in gateway.dead_letters.recent() if d.reason == "bad_seq"]
    assert all("[0, 2^53]" in d.detail for d in bad)
    saved = gateway.store.load_state()
    assert saved is not None
    assert [t for d, _m, t, _ts in saved.meters if d == "power"] == [1030.0]
    assert [s for d, s, _ts in saved.seqs if d == "power"] == [2]


def test_a_refused_message_moves_no_seq(gateway: Gateway, pub: Publisher, clock: ManualClock) -> None:
    t = clock.now()
    pub.state("fridge-1", {"temperature": 4.0}, ts=t - 60, seq=1)
    pub.state("fridge-1", {"temperature": 85.0}, seq=2**62)  # out of range
    pub.state("fridge-1", {"temperature": 85.0}, seq=1000)  # in range, its only value refused
    for i in range(5):
        pub.state("fridge-1", {"temperature": (41 + i) / 10}, ts=t - 50 + i, seq=2 + i)
    wait_for(lambda: len(values(gateway, "fridge-1", "temperature", clock)) == 6, what="the 5 good readings")
    assert gateway.ingest.wait_idle(10)
    assert values(gateway, "fridge-1", "temperature", clock) == [4.0, 4.1, 4.2, 4.3, 4.4, 4.5]
    assert gateway.ingest.stats()["duplicates"] == 0
    assert gateway.dead_letters.counts() == {"bad_seq": 1, "ds18b20_power_on": 1}
    saved = gateway.store.load_state()
    assert saved is not None
    assert [s for d, s, _ts in saved.seqs if d == "fridge-1"] == [6]
