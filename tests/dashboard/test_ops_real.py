"""``/metrics`` and ``/healthz`` of a real gateway (broker, ingest, rules, a failing webhook), not stand-ins."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx

from dashboard.component import DashboardComponent, serve_dashboard
from gateway import contract
from gateway.app import build_gateway
from gateway.config import parse_config
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens there


def _value(text: str, series: str) -> float | None:
    m = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_metrics_and_health_of_a_running_gateway(tmp_path: Path) -> None:
    (tmp_path / "mosquitto").mkdir()
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    cfg = parse_config({
        "site": {"id": SITE, "name": "KG", "locale": "en"},
        "mqtt": {"url": broker.url, "client_id": "houqin-ops-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": [{"id": "fridge", "kind": "fridge"}],
        "rules": [{"id": "warm", "kind": "threshold", "devices": ["fridge"], "above": 8.0,
                   "severity": "critical", "notify": "kitchen"}],
        "notify": {"channels": {"robot": {"type": "webhook", "format": "generic",
                                          "url": f"http://127.0.0.1:{_closed_port()}/hook"}},
                   "chains": {"kitchen": {"steps": [{"channels": ["robot"]}]}}},
    })
    gw = build_gateway(cfg)
    component: DashboardComponent = serve_dashboard(gw)
    gw.start()
    pub = Publisher(broker.port, client_id="ops-publisher")
    broker_stopped = False
    try:
        pub.wait_gateway()
        assert component.server is not None
        base = component.server.url
        health = httpx.get(base + "/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["broker_connected"] is True and health.json()["store_writable"] is True

        pub.send(contract.state_topic(SITE, "fridge"), b"not json")  # a dead letter
        pub.state("fridge", {"temperature": 9.5})  # an alert whose webhook cannot be delivered

        def scraped() -> str:
            return httpx.get(base + "/metrics", timeout=10).text  # from this machine: no login needed

        wait_for(lambda: (_value(scraped(), 'houqin_alerting_notify_failed_attempts_total{channel="robot"}') or 0) >= 1,
                 "a failed delivery on /metrics", 20, every=0.2)
        # The alert came before the commit window closed (rules are told at once); the counts come with it. The
        # two messages may close two windows (a busy machine): wait for both.
        def committed(text: str) -> bool:
            return (_value(text, 'houqin_ingest_refused_total{reason="not_json"}') is not None
                    and (_value(text, "houqin_ingest_messages_total") or 0) >= 2)

        wait_for(lambda: committed(scraped()), "both commits on /metrics", 30, every=0.2)
        text = scraped()
        assert _value(text, 'houqin_ingest_refused_total{reason="not_json"}') == 1
        assert (_value(text, "houqin_ingest_messages_total") or 0) >= 2
        assert _value(text, 'houqin_alerts_open{severity="critical",state="active"}') == 1
        for queue in ("houqin_ingest_queue_depth", "houqin_alerting_rules_queued",
                      'houqin_alerting_notify_queued{channel="robot"}'):
            assert _value(text, queue) is not None, f"{queue} missing from /metrics"

        broker.stop()  # the broker goes away: /healthz says so
        broker_stopped = True

        def unhealthy() -> bool:
            r = httpx.get(base + "/healthz", timeout=10)
            return r.status_code == 503 and r.json()["broker_connected"] is False

        wait_for(unhealthy, "/healthz to report the lost broker", 20, every=0.2)
    finally:
        pub.close()
        gw.stop()
        if not broker_stopped:
            broker.stop()
