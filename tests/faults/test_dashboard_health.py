"""``/healthz`` tells the truth: a store that cannot commit and a stopped broker each give 503 with a reason."""

from __future__ import annotations

from pathlib import Path

import httpx

from dashboard.component import DashboardComponent, serve_dashboard
from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.doctor import check_health
from gateway.store.sqlite import SqliteStore
from gateway.watchdog import stall_limit
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for


def test_a_store_that_cannot_commit_and_a_stopped_broker_give_503(tmp_path: Path) -> None:
    (tmp_path / "mosquitto").mkdir()
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    cfg = parse_config({
        "site": {"id": SITE, "name": "KG", "locale": "en"},
        "mqtt": {"url": broker.url, "client_id": "houqin-health-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": [{"id": f"fridge-{i}", "kind": "fridge"} for i in range(20)],
    })
    clock = ManualClock(1_790_000_000.0)
    gw = build_gateway(cfg, clock=clock)
    component: DashboardComponent = serve_dashboard(gw)
    gw.start()
    pub = Publisher(broker.port, client_id="health-publisher")
    broker_stopped = False
    try:
        pub.wait_gateway()
        assert component.server is not None
        base = component.server.url

        def health() -> httpx.Response:
            return httpx.get(base + "/healthz", timeout=10)

        pub.state("fridge-0", {"temperature": 4.0})
        wait_for(lambda: health().json()["parts"]["ingest"]["last_commit_age_s"] is not None, "a first commit")
        r = health()
        assert r.status_code == 200, r.json()
        assert {name for name, p in r.json()["parts"].items() if p["ok"] is not True} == set()
        assert [(c.id, c.status) for c in check_health(cfg, base + "/healthz")] == [("health", "ok")]

        # the disk is full for the store: SQLite's page limit on the very file the store writes
        store = gw.store
        assert isinstance(store, SqliteStore)
        with store._wlock:  # the store's writer connection, between two commits
            pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
            store._writer.execute(f"PRAGMA max_page_count = {pages}")
        for n in range(400):
            clock.advance(1)
            pub.state(f"fridge-{n % 20}", {"temperature": 4.0 + n / 100, "seq": n + 1})
        wait_for(lambda: health().json()["parts"]["ingest"]["commit_errors"] > 0, "a failed commit")
        clock.advance(stall_limit(cfg.storage.commit_interval) + 1)
        r = health()
        assert r.status_code == 503
        ingest = r.json()["parts"]["ingest"]
        assert ingest["ok"] is False and "waited" in ingest["reason"]
        assert any(x.startswith("ingest:") for x in r.json()["reasons"])

        with store._wlock:  # room again: the backlog commits and health returns
            store._writer.execute("PRAGMA max_page_count = 1073741823")
        wait_for(lambda: health().status_code == 200, "health back after the store can commit", 30, every=0.2)

        broker.stop()
        broker_stopped = True
        wait_for(lambda: health().status_code == 503, "/healthz to report the stopped broker", 20, every=0.2)
        part = health().json()["parts"]["broker"]
        assert part["ok"] is False and "broker" in part["reason"]
        # `houqin doctor` reads the same report and says what it means
        found = check_health(cfg, base + "/healthz")
        assert [(c.id, c.status) for c in found] == [("health:broker", "fail")]
        assert "not connected to the MQTT broker" in found[0].message
    finally:
        pub.close()
        gw.stop()
        if not broker_stopped:
            broker.stop()
