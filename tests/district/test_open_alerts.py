"""Alerts that opened before the district service first started, or while it was stopped, over a real central
Mosquitto: the sites' retained list of open alerts and the service's persistent session (a fixed client id, QoS 1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.alerts.model import Alert
from gateway.uplink import messages
from tests.district.helpers import SitePublisher, add_user, logged_in, running_service, service_toml
from tests.district.test_overview import overview
from tests.uplink.central import CentralBroker
from tests.waiting import wait_for

SITES = ["sun-kg", "moon-kg", "star-kg"]


def alert(alert_id: int, severity: str, opened_at: float, acked_at: float | None = None) -> Alert:
    return Alert(id=alert_id, rule="fridge-warm", device="fridge-1", kind="threshold", severity=severity,
                 state="active" if acked_at is None else "acknowledged", chain="kitchen", metric="temperature",
                 value=9.5, detail="", since=opened_at, opened_at=opened_at, acked_at=acked_at)


def test_alerts_opened_before_the_first_start_and_during_downtime(central: CentralBroker, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    toml = service_toml(central, tmp_path / "district-data", None)
    add_user(toml, "ada", "viewer", monkeypatch)
    sun, moon = SitePublisher(central, "sun-kg"), SitePublisher(central, "moon-kg")
    facts = messages.AlertFacts("fridge", 600.0)
    opened = time.time() - 3600
    # Before the district service ever ran: sun-kg opened two alerts (one acknowledged) and its uplink left the
    # retained list of open alerts; the transitions themselves had no subscriber and are gone.
    sun.history(1, "fridge-1", opened, [("opened", 0)])
    sun.history(2, "fridge-1", opened + 60, [("opened", 0), ("acknowledged", 120)])
    sun.open_alerts([(alert(1, "critical", opened), facts), (alert(2, "major", opened + 60, opened + 180), facts)],
                    opened + 180)
    try:
        with running_service(toml) as service:
            client = logged_in(service, "ada")
            wait_for(lambda: overview(client)[0]["id"] == "sun-kg", "sun-kg's open alerts from its retained list")
            first = overview(client)[0]
            assert first["unacked_critical"] == 1 and first["oldest_critical_at"] == pytest.approx(opened)
            assert first["alerts"] == {"critical": 1, "major": 1, "minor": 0, "warning": 0}
            # the alert log has them too (the cold chain's figures): opened, and the second acknowledged
            logged = {a.id: a for a in service.alerts.opened(opened - 1, time.time())}
            assert logged[2].acked_at == pytest.approx(opened + 180) and logged[1].acked_at is None
        # While the service is stopped: moon-kg opens a critical alert, sun-kg's first alert clears. The transitions
        # wait in the service's persistent session (no open list is sent here, so only the session can tell).
        moon.history(7, "fridge-1", time.time() - 30, [("opened", 0)])
        sun.history(1, "fridge-1", opened, [("cleared", 3000)])
        with running_service(toml) as service:
            client = logged_in(service, "ada")
            wait_for(lambda: overview(client)[0]["id"] == "moon-kg"
                     and next(s for s in overview(client) if s["id"] == "sun-kg")["unacked_critical"] == 0,
                     "the transitions sent while the service was stopped")
            # the retained list of sun-kg is older than the transition that cleared its alert 1: it stays cleared
            sun_row = next(s for s in overview(client) if s["id"] == "sun-kg")
            assert sun_row["alerts"] == {"critical": 0, "major": 1, "minor": 0, "warning": 0}
            assert overview(client)[0]["unacked_critical"] == 1
    finally:
        sun.close()
        moon.close()
