"""Through the real broker and gateway: sample-fridge readings published over MQTT flag a registered
sample and its alert reaches the kitchen's webhook; a rising night baseline reads as a possible leak."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.reports.service import Reports
from gateway.reports.weekly import WeeklyBuilder, parse_week
from gateway.store.sqlite import SqliteStore
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.notify.receivers import WebhookServer
from tests.reports.series import DEVICES, local_ts, make_config, write_meter
from tests.waiting import COMMIT_WINDOW, wait_for


def test_sample_flagged_through_mqtt_and_alert_delivered(tmp_path: Path, mosquitto: Mosquitto,
                                                         hook: WebhookServer) -> None:
    cfg = parse_config({
        "site": {"id": "kg", "locale": "zh-CN"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-e2e-reports"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"enabled": False},
        "devices": DEVICES,
        "notify": {"channels": {"kitchen": {"type": "webhook", "format": "generic", "url": hook.url("/kitchen")}},
                   "chains": {"kitchen": {"steps": [{"channels": ["kitchen"]}]}}},
        "reports": {"samples": {"notify": "kitchen"}},
    })
    clock = ManualClock(round(time.time(), 3))
    gw = build_gateway(cfg, clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        reports: Reports = gw.reports
        sample, _ = reports.ledger.register(reports.today().isoformat(), "lunch", [("番茄炒蛋", "150")],
                                            "sample-fridge", "王师傅", by="li")
        pub.wait_gateway()
        pub.state("sample-fridge", {"temperature": 4.0}, ts=clock.advance(60))
        pub.state("sample-fridge", {"temperature": 9.4}, ts=clock.advance(60))
        pub.state("sample-fridge", {"temperature": 9.8}, ts=clock.advance(300))
        wait_for(lambda: gw.ingest.stats()["readings"] >= 3, what="three readings")
        assert reports.ledger.get(sample.id).flagged is None and hook.received == []
        pub.state("sample-fridge", {"temperature": 9.6}, ts=clock.advance(300))  # 10 minutes warm
        wait_for(lambda: len(hook.at("/kitchen")) == 1, what="the sample alert at the kitchen's webhook")
        body = hook.at("/kitchen")[0].body
        assert body["event"] == "opened" and body["alert"]["rule"] == "food-sample"
        assert body["alert"]["device"] == "sample-fridge" and body["alert"]["severity"] == "critical"
        flagged = reports.ledger.get(sample.id).flagged
        assert flagged is not None and "9.8 °C for 10 min" in (flagged.value or "")
        ok, verdict = reports.ledger.verdict(reports.ledger.get(sample.id), "zh-CN")
        assert not ok and verdict.startswith("留样受影响：") and "10 分钟，最高 9.8 °C" in verdict
    finally:
        pub.close()
        gw.stop()


def test_rising_night_baseline_is_a_leak_finding_first(tmp_path: Path) -> None:
    tz = "Asia/Shanghai"
    cfg = make_config(tmp_path, tz=tz, reports={"tariff": {"water": {"kind": "flat", "price": 4.0}}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    leak_from = local_ts(date(2026, 11, 16), 0, 0, tz)  # Monday of 2026-W47: a toilet starts running
    try:
        # Open hours 120 L/h, nights 12 L/h; from W47 the leak adds 24 L/h day and night.
        from gateway.calendar import SchoolCalendar

        cal = SchoolCalendar(cfg.calendar, tz)
        write_meter(store, cfg, "water", "total_l", local_ts(date(2026, 11, 9), 0, 0, tz),
                    local_ts(date(2026, 11, 23), 0, 0, tz),
                    lambda ts: (10.0 if cal.is_open(ts) else 1.0) + (2.0 if ts >= leak_from else 0.0))
        report = WeeklyBuilder(cfg, store).build(parse_week("2026-W47", cfg.site.tz), leak_from + 7 * 86400, "en")
    finally:
        store.close()
    water = next(m for m in report.meters if m.device == "water")
    assert water.baseline_prev == pytest.approx(12.0) and water.baseline_avg == pytest.approx(36.0)
    first = report.findings[0]
    assert first.kind == "baseline_rising" and first.risk == 2
    assert first.text == "Water main: night baseline rose from 12.0 to 36.0 L/h; check for a leak"
    # Its money: 24 L/h more for 168 h = 4.032 m³ at ¥4.00.
    assert first.money == pytest.approx(4.032 * 4.0)
