"""Hostile topics: whatever the topics, the route cache, the dead letters and the log stay bounded.

Before: 2,000 messages with a 30 KB topic level grew the log by 180 MB and the events database by
272 MB, and RSS grew linearly, since the route cache, the dead letters and "log once per device and
reason" all kept the attacker's topic.
"""

from __future__ import annotations

import logging

import pytest

from gateway import contract
from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.deadletters import TOPIC_CHARS
from tests.faults.conftest import flood
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.gateway.ingest_helpers import stored_values as values
from tests.waiting import wait_for

N = 600


def test_30_kb_topic_levels_keep_everything_bounded(gateway: Gateway, pub: Publisher, clock: ManualClock,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    db = gateway.events_db.path
    conn = gateway.events_db.conn()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_before = db.stat().st_size
    messages: list[tuple[str, bytes]] = []
    for i in range(N):
        level = f"{i:05d}" + "x" * 30_000
        messages.append((f"houqin/{SITE}/{level}/state", b'{"temperature": 4.0}'))  # a native device level
        messages.append((f"shellypro4pm-kitchen/status/{level}", b"{}"))  # a Shelly wildcard level
    flood(pub, messages)
    pub.state("fridge-1", {"temperature": 4.5}, ts=clock.now())
    wait_for(lambda: values(gateway, "fridge-1", "temperature", clock) == [4.5], timeout=60, what="a good reading")
    assert gateway.ingest.wait_idle(10)

    assert gateway.dead_letters.counts() == {"topic_too_long": 2 * N}
    longest = conn.execute("SELECT max(length(topic)), max(length(coalesce(device, ''))), max(length(detail)) "
                           "FROM dead_letters").fetchone()
    assert longest[0] <= TOPIC_CHARS + 1 and longest[1] <= 65 and longest[2] <= 501
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    grown = db.stat().st_size - size_before
    assert grown < 3_000_000, f"events database grew by {grown} bytes for {2 * N} dead letters"
    assert gateway.ingest.stats()["route_cache"] <= 1  # nothing keyed on a refused topic
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("gateway")]
    assert len(logged) <= 2 and sum(len(m) for m in logged) < 2000, logged


def test_many_unknown_devices_give_one_counted_summary(gateway: Gateway, pub: Publisher, clock: ManualClock,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    flood(pub, [(contract.state_topic(SITE, f"intruder-{i}"), b'{"temperature": 4.0}') for i in range(N)]
          + [(f"shellypro4pm-kitchen/status/switch:{i}", b"not json") for i in range(N)])
    pub.state("fridge-1", {"temperature": 4.5}, ts=clock.now())
    wait_for(lambda: values(gateway, "fridge-1", "temperature", clock) == [4.5], timeout=60, what="a good reading")
    assert gateway.ingest.wait_idle(10)
    assert gateway.dead_letters.counts() == {"unknown_device": N, "not_json": N}
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.deadletters"]
    # One summary for the unknown devices (told at once, then summed up per interval), and one line for
    # the configured Shelly's not_json, not one per message.
    assert len(lines) == 2, lines
    assert sum("unknown devices" in line for line in lines) == 1
    assert gateway.ingest.stats()["route_cache"] <= 4096


def test_what_a_configured_device_sends_is_stored_refused_or_counted_as_ignored(
        gateway: Gateway, pub: Publisher, clock: ManualClock) -> None:
    pub.send("shellypro4pm-kitchen/status/wifi", b'{"sta_ip": "10.0.0.9", "rssi": -61}')
    pub.send("shellypro4pm-kitchen/status/switch:0", b'{"apower": 12.5}')
    wait_for(lambda: values(gateway, "kitchen-power", "power_w", clock) == [12.5], what="the power reading")
    assert gateway.ingest.wait_idle(10)
    stats = gateway.ingest.stats()
    assert stats["ignored"] == 1 and stats["acked"] == stats["received"]


def test_an_unknown_shelly_component_is_dead_lettered(gateway: Gateway, pub: Publisher, clock: ManualClock) -> None:
    # Before: every unknown Shelly component was dropped with no trace.
    pub.send("shellypro4pm-kitchen/status/flux_capacitor:0", b'{"gigawatts": 1.21}')
    pub.send("shellypro4pm-kitchen/status/switch:0", b'{"apower": 12.5}')
    wait_for(lambda: values(gateway, "kitchen-power", "power_w", clock) == [12.5], what="the power reading")
    assert gateway.ingest.wait_idle(10)
    assert gateway.dead_letters.counts() == {"unknown_component": 1}
