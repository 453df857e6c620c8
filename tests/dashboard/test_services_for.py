"""``services_for``: what the dashboard reads, taken from the parts ``build_gateway`` built."""

from __future__ import annotations

from pathlib import Path

from dashboard.services import services_for
from gateway.app import build_gateway
from gateway.clock import ManualClock
from tests.dashboard.helpers import make_config


def test_services_are_the_parts_of_the_built_gateway(tmp_path: Path) -> None:
    site = build_gateway(make_config(tmp_path), clock=ManualClock())
    try:
        s = services_for(site)
        assert s.config is site.config and s.events_db is site.events_db and s.clock is site.clock
        assert s.store is site.store and s.gate is site.gate and s.alerts is site.alerting.service
        assert s.broker_connected is not None and s.broker_connected() is False  # not started
        assert set(s.stats_sources) == {"ingest", "alerting"}
        assert s.add_batch_observer == site.ingest.add_observer
        assert s.add_alert_listener == site.alerting.service.add_listener
        assert site.store.health().writable and site.store.health().outbox is None
    finally:
        site.close()
