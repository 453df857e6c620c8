"""``/healthz`` and ``/metrics`` over the InfluxDB backend (real influxd 1.x): outbox depth and backend."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.app import create_app
from gateway.alerts import AlertService, AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.store.influx import InfluxStore
from gateway.store.influx_settings import InfluxSettings
from tests.dashboard.helpers import cheap_hasher, dashboard_services, make_config
from tests.influxdb import Influxd, influxd, unique_database  # noqa: F401  (fixture)


def test_healthz_reports_the_outbox_of_the_influxdb_backend(influxd: Influxd, tmp_path: Path) -> None:  # noqa: F811
    cfg = make_config(tmp_path)
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock()
    # not forwarding: what is written waits in the durable outbox, as while InfluxDB is down
    store = InfluxStore(InfluxSettings(url=influxd.url, database=unique_database()), site="kg",
                        outbox_path=tmp_path / "data" / "outbox.db", clock=clock, start=False)
    services = dashboard_services(cfg, db, clock, store, AlertService(AlertStore(db), clock))
    app = create_app(services, cfg.dashboard, hasher=cheap_hasher())
    try:
        with TestClient(app) as c:
            body = c.get("/healthz").json()
            assert body["store_backend"] == "influxdb" and body["outbox_depth"] == 0
            assert body["store_writable"] is True
            store.write([Reading(clock.now() - i, "fridge-1", "temperature", 4.0 + i) for i in range(3)])
            body = c.get("/healthz").json()
            assert body["outbox_depth"] == 3
            assert body["outbox_dropped"] == 0
    finally:
        store.close()
        db.close()
