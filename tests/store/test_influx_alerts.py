"""Storage alerts: credentials refused -> "storage degraded" alert that clears; outbox drops -> latched alert."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.alerts.service import AlertService
from gateway.alerts.store import AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.storage_alerts import DEVICE, RULE_DEGRADED, RULE_DROPPED, StorageAlerts
from gateway.store.influx import InfluxStore
from gateway.store.influx_settings import InfluxSettings
from tests.store.influx_receiver import InfluxReceiver

T0 = 1_790_000_000.0


@pytest.fixture
def receiver() -> Iterator[InfluxReceiver]:
    with InfluxReceiver(version="1.6.7~rc0") as r:
        yield r


def setup(tmp_path: Path, url: str, **extra: object) -> tuple[InfluxStore, AlertService, ManualClock, EventsDB]:
    clock = ManualClock(T0)
    events = EventsDB(tmp_path / "events.db")
    service = AlertService(AlertStore(events), clock)
    s = InfluxSettings(url=url, database="houqin", alert_chain="office", **extra)  # type: ignore[arg-type]
    store = InfluxStore(s, site="kg", outbox_path=tmp_path / "outbox.db", clock=clock, start=False,
                        rng=random.Random(3))
    alerts = StorageAlerts(service, clock, s.alert_chain, dropped_so_far=store.status().dropped)
    store.add_listener(alerts.on_status)
    return store, service, clock, events


def test_refused_credentials_open_a_degraded_alert_that_clears(receiver: InfluxReceiver, tmp_path: Path) -> None:
    store, service, clock, events = setup(tmp_path, receiver.url)
    try:
        receiver.responder = lambda _r: (403, "forbidden")
        store.write([Reading(T0, "fridge-1", "temperature", 4.0)])
        delay = store.forwarder.pump()
        [alert] = service.list(open_only=True)
        assert (alert.rule, alert.device, alert.severity, alert.chain) == (RULE_DEGRADED, DEVICE, "critical", "office")
        assert "403" in alert.detail and "credentials" in alert.detail
        clock.advance(delay)
        store.forwarder.pump()  # still refused: still one alert
        assert len(service.list()) == 1
        receiver.responder = lambda _r: (204, "")
        clock.advance(600)
        store.forwarder.pump()
        assert service.list(open_only=True) == []
        assert service.get(alert.id).state == "cleared"
    finally:
        store.close()
        events.close()


def test_dropped_points_open_a_latched_alert(receiver: InfluxReceiver, tmp_path: Path) -> None:
    store, service, clock, events = setup(tmp_path, receiver.url, outbox_max_points=5)
    try:
        receiver.responder = lambda _r: (503, "busy")
        store.write([Reading(T0 + i, "fridge-1", "temperature", 4.0) for i in range(4)])
        assert service.list() == []
        store.write([Reading(T0 + 10 + i, "fridge-1", "temperature", 4.0) for i in range(3)])
        assert service.list() == []  # not from inside write(): ingest holds an events-DB transaction there
        store.forwarder.pump()  # the forwarder thread reports it
        [alert] = service.list(open_only=True)
        assert (alert.rule, alert.severity, alert.value) == (RULE_DROPPED, "major", 2.0)
        assert "2 reading(s) dropped" in alert.detail and "(5 points)" in alert.detail
        receiver.responder = lambda _r: (204, "")
        clock.advance(600)
        store.forwarder.pump()
        assert store.status().depth == 0
        # Delivery resumed, but the lost readings stay lost: the alert waits for someone to acknowledge it.
        [still] = service.list(open_only=True)
        assert still.id == alert.id and still.state == "active"
        service.ack(alert.id, "logistics head", "InfluxDB restarted; outbox raised to 2,000,000")
        assert service.get(alert.id).state == "cleared"
    finally:
        store.close()
        events.close()
