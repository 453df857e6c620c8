"""Rule kinds driven by committed batches and a ManualClock, persisted in a real events DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.clock import ManualClock
from tests.rules.site import FRI_2AM, Site, config

HOLIDAY_CAL = {"holidays": ["2026-10-01..2026-10-07"], "makeup_workdays": ["2026-10-10"]}


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    sites: list[Site] = []

    def _make(rules: list[dict[str, Any]], start: float = FRI_2AM, **kw: Any) -> Site:
        site = Site(config(tmp_path, rules, **kw), ManualClock(start), start=False)
        sites.append(site)
        return site

    yield _make
    for s in sites:
        s.close()


FRIDGE = {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge*"], "metric": "temperature",
          "above": 8.0, "clear_below": 7.0, "for": "10m", "severity": "critical"}


def test_threshold_waits_for_duration_then_clears_with_hysteresis(make: Any) -> None:
    site = make([FRIDGE])
    for _ in range(9):
        site.reading("kitchen-fridge", "temperature", 9.0)
        site.advance(60)
    assert site.service.list(open_only=True) == []
    site.reading("kitchen-fridge", "temperature", 9.2)
    site.advance(60)
    site.reading("kitchen-fridge", "temperature", 9.1)
    [alert] = site.service.list(open_only=True)
    assert (alert.rule, alert.device, alert.state, alert.severity) == ("fridge-warm", "kitchen-fridge", "active",
                                                                       "critical")
    assert alert.since == FRI_2AM
    site.reading("kitchen-fridge", "temperature", 7.5)  # below 8 but above clear_below: still on
    assert site.service.get(alert.id).state == "active"
    site.reading("kitchen-fridge", "temperature", 6.9)
    cleared = site.service.get(alert.id)
    assert cleared.state == "cleared" and cleared.cleared_at == site.clock.now()
    assert [e.what for e in site.service.timeline(alert.id)] == ["opened", "cleared"]


def test_duration_fires_on_tick_without_new_readings(make: Any) -> None:
    site = make([FRIDGE])
    site.reading("kitchen-fridge", "temperature", 12.0)
    site.advance(9 * 60)
    assert not site.service.list()
    site.advance(60)
    assert len(site.service.list(open_only=True)) == 1


def test_door_opened_briefly_no_alert(make: Any) -> None:
    site = make([FRIDGE, {"id": "gate-held", "kind": "gate_held_open", "devices": ["gate"], "for": "2m"}])
    site.reading("kitchen-fridge", "temperature", 10.5)  # fridge door open: warm for a moment
    site.reading("gate", "contact", 1.0)
    site.advance(30, step=5)
    site.reading("kitchen-fridge", "temperature", 6.0)
    site.reading("gate", "contact", 0.0)
    site.advance(30 * 60)
    assert site.service.list() == []


def test_gate_held_open(make: Any) -> None:
    site = make([{"id": "gate-held", "kind": "gate_held_open", "devices": ["gate"], "for": "2m"}])
    site.reading("gate", "contact", 1.0)
    site.advance(121, step=1)
    [a] = site.service.list(open_only=True)
    site.reading("gate", "contact", 0.0)
    assert site.service.get(a.id).state == "cleared"


def test_restart_mid_duration_keeps_the_start(make: Any, tmp_path: Path) -> None:
    site = make([FRIDGE])
    site.reading("kitchen-fridge", "temperature", 9.0)
    site.advance(6 * 60)
    site.close()
    again = make([FRIDGE], start=site.clock.now())
    again.reading("kitchen-fridge", "temperature", 9.0)
    again.advance(3 * 60)
    assert again.service.list() == []
    again.advance(60)  # 10 min after the first warm reading, not 10 min after the restart
    [a] = again.service.list(open_only=True)
    assert a.since == FRI_2AM


def test_restart_keeps_open_alert_and_does_not_reopen(make: Any) -> None:
    site = make([FRIDGE])
    site.reading("kitchen-fridge", "temperature", 9.0)
    site.advance(11 * 60)
    [a] = site.service.list(open_only=True)
    site.close()
    again = make([FRIDGE], start=site.clock.now())
    again.reading("kitchen-fridge", "temperature", 9.5)
    again.advance(20 * 60)
    assert [x.id for x in again.service.list()] == [a.id]
    again.reading("kitchen-fridge", "temperature", 5.0)
    assert again.service.get(a.id).state == "cleared"


def test_one_open_alert_per_rule_and_device(make: Any) -> None:
    site = make([{**FRIDGE, "devices": ["kitchen-*"], "for": "0s"}])
    site.reading("kitchen-fridge", "temperature", 9.0)
    site.reading("kitchen-fridge", "temperature", 9.5)
    site.reading("kitchen-freezer", "temperature", 9.0)
    assert sorted(a.device for a in site.service.list(open_only=True)) == ["kitchen-freezer", "kitchen-fridge"]
    site.reading("kitchen-fridge", "temperature", 5.0)
    site.reading("kitchen-fridge", "temperature", 9.0)  # a new episode: a new alert
    assert len(site.service.list(rule="fridge-warm", device="kitchen-fridge")) == 2


def test_below_and_outside_range(make: Any) -> None:
    site = make([{"id": "sample", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8, "below": 0,
                  "for": "5m"}])
    site.reading("kitchen-fridge", "temperature", -1.0)
    site.advance(5 * 60)
    [a] = site.service.list(open_only=True)
    site.reading("kitchen-fridge", "temperature", 4.0)
    assert site.service.get(a.id).state == "cleared"


def test_stale_and_offline(make: Any) -> None:
    site = make([{"id": "silent", "kind": "stale", "devices": ["kitchen-*"], "for": "15m", "offline_for": "1m"}])
    site.reading("kitchen-fridge", "temperature", 4.0)
    site.advance(14 * 60)
    site.reading("kitchen-fridge", "temperature", 4.0)
    site.advance(60)
    # The freezer never spoke since the start: silent 15 min.
    assert [a.device for a in site.service.list(open_only=True)] == ["kitchen-freezer"]
    site.reading("kitchen-freezer", "temperature", -18.0)
    assert site.service.list(open_only=True) == []
    from gateway.model import Availability

    site.feed(availability=[Availability(site.clock.now(), "kitchen-fridge", False)])
    site.advance(60)
    [a] = site.service.list(open_only=True)
    assert a.device == "kitchen-fridge" and a.detail == "offline"
    # Back online is no reading: the alert stays until the sensor really measures again.
    site.feed(availability=[Availability(site.clock.now(), "kitchen-fridge", True)])
    assert site.service.get(a.id).state == "active"
    site.reading("kitchen-fridge", "temperature", 4.0)
    assert site.service.get(a.id).state == "cleared"


def test_stale_online_is_no_reading(make: Any) -> None:
    from gateway.model import Availability

    site = make([{"id": "silent", "kind": "stale", "devices": ["kitchen-fridge"], "for": "3m"}])
    site.reading("kitchen-fridge", "temperature", 4.0)
    heard = site.clock.now()
    site.advance(2 * 60)
    site.feed(availability=[Availability(site.clock.now(), "kitchen-fridge", True)])  # e.g. retained, redelivered
    site.advance(60)
    [a] = site.service.list(open_only=True)
    assert a.since == heard
    for _ in range(3):
        site.feed(availability=[Availability(site.clock.now(), "kitchen-fridge", True)])
        site.advance(5 * 60)
    assert [x.id for x in site.service.list()] == [a.id] and site.service.get(a.id).state == "active"


def test_event_only_devices_are_judged_by_availability(make: Any) -> None:
    from gateway.model import Availability

    site = make([{"id": "silent", "kind": "stale", "devices": ["*"], "for": "15m", "offline_for": "1m"}])
    metrics = {"kitchen-fridge": "temperature", "kitchen-freezer": "temperature", "water": "usage_l",
               "power": "usage_wh", "gate": "contact", "sink-leak": "water_leak"}
    for _ in range(48):  # all night without a card: the reader is quiet, not silent
        site.advance(600)
        for dev, metric in metrics.items():
            site.reading(dev, metric, 0.0)
    assert site.service.list() == []
    site.feed(availability=[Availability(site.clock.now(), "reader", False)])
    site.advance(60)
    [a] = site.service.list(open_only=True)
    assert (a.device, a.detail) == ("reader", "offline")
    site.feed(availability=[Availability(site.clock.now(), "reader", True)])
    assert site.service.get(a.id).state == "cleared"


def test_continuous_flow_leak(make: Any) -> None:
    site = make([{"id": "leak-night", "kind": "continuous_flow", "devices": ["water"], "min_flow": 0.2,
                  "window": "10m", "for": "2h"}])
    for _ in range(100):  # 0.5 L/min for 100 min, then 20 min off, then 0.5 L/min for 2 h
        site.advance(60)
        site.reading("water", "usage_l", 0.5)
    site.advance(20 * 60)
    site.reading("water", "usage_l", 0.0)
    assert site.service.list() == []
    for _ in range(119):
        site.advance(60)
        site.reading("water", "usage_l", 0.5)
    assert site.service.list() == []
    for _ in range(12):
        site.advance(60)
        site.reading("water", "usage_l", 0.5)
    [a] = site.service.list(open_only=True)
    for _ in range(11):
        site.advance(60)
        site.reading("water", "usage_l", 0.0)
    assert site.service.get(a.id).state == "cleared"


def test_water_leak_sensor(make: Any) -> None:
    site = make([{"id": "leak", "kind": "water_leak", "devices": ["sink-leak"], "severity": "critical"}])
    site.reading("sink-leak", "water_leak", 1.0)
    [a] = site.service.list(open_only=True)
    site.reading("sink-leak", "water_leak", 0.0)
    assert site.service.get(a.id).state == "cleared"


def test_closed_hours_use_with_holiday_and_makeup_saturday(make: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    rule = {"id": "power-left-on", "kind": "closed_hours_use", "devices": ["power"], "metric": "usage_wh",
            "allowance": 500, "per": "hour"}
    # 调休 Saturday 2026-10-10 at 10:00: the school is open, heavy use is fine.
    site = make([rule], start=datetime(2026, 10, 10, 10, 0, tzinfo=tz).timestamp(), calendar=HOLIDAY_CAL)
    for _ in range(6):
        site.advance(600)
        site.reading("power", "usage_wh", 300)
    assert site.service.list() == []
    # National Day, Thursday 2026-10-01 at 10:00: closed, 6 x 300 Wh in the hour is too much.
    site.clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=tz).timestamp())
    site.reading("power", "usage_wh", 300)
    site.advance(600)
    assert site.service.list() == []
    site.reading("power", "usage_wh", 300)
    [a] = site.service.list(open_only=True)
    assert a.value == 600
    # Next hour stays within the allowance: cleared at the following hour change.
    site.advance(3600, step=300)
    site.reading("power", "usage_wh", 10)
    site.advance(3600, step=300)
    assert site.service.get(a.id).state == "cleared"


def test_gate_forced_and_latched(make: Any) -> None:
    site = make([{"id": "forced", "kind": "gate_forced", "devices": ["gate"], "authorized_by": ["reader", "gate"],
                  "window": "10s", "grace": "2s", "severity": "critical"}])
    site.reading("gate", "contact", 0.0)
    # An accepted card, then the gate opens: fine.
    site.event("reader", "card", uid="04A1B2C3", accepted=True)
    site.advance(3, step=1)
    site.reading("gate", "contact", 1.0)
    site.advance(5, step=1)
    site.reading("gate", "contact", 0.0)
    # The exit button pressed just after the contact (arrives late over MQTT): fine.
    site.advance(60)
    site.reading("gate", "contact", 1.0)
    site.advance(1, step=1)
    site.event("gate", "button")
    site.advance(5, step=1)
    site.reading("gate", "contact", 0.0)
    assert site.service.list() == []
    # A refused card, then the gate opens: forced.
    site.advance(60)
    site.event("reader", "card", uid="DEADBEEF", accepted=False)
    site.reading("gate", "contact", 1.0)
    site.advance(1, step=1)
    assert site.service.list() == []
    site.advance(1, step=1)
    [a] = site.service.list(open_only=True)
    assert a.severity == "critical"
    site.reading("gate", "contact", 0.0)
    assert site.service.get(a.id).state == "active"  # latched: stays until someone answers for it
    done = site.service.ack(a.id, "Guard Wang", "checked the yard, delivery driver pushed it")
    assert done.state == "cleared" and done.acked_by == "Guard Wang"
    assert [e.what for e in site.service.timeline(a.id)] == ["opened", "ended", "acknowledged", "cleared"]


def test_after_hours_access(make: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    rule = {"id": "after-hours", "kind": "after_hours_access", "devices": ["reader", "gate"]}
    site = make([rule], start=datetime(2026, 11, 20, 10, 0, tzinfo=tz).timestamp())
    site.event("reader", "card", uid="04A1B2C3")
    assert site.service.list() == []
    site.clock.set(datetime(2026, 11, 21, 23, 10, tzinfo=tz).timestamp())  # Saturday night
    site.event("reader", "card", uid="04A1B2C3")
    [a] = site.service.list(open_only=True)
    assert a.detail == "card 04A1B2C3"
    site.event("reader", "card", uid="04A1B2C3")  # again: still one open alert
    assert len(site.service.list()) == 1
    assert site.service.ack(a.id, "Principal Li", "the cook came for the delivery").state == "cleared"


def test_schedule_closed_only(make: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    rule = {"id": "power-night", "kind": "threshold", "devices": ["power"], "metric": "power_w", "above": 300,
            "schedule": "closed"}
    site = make([rule], start=datetime(2026, 11, 20, 10, 0, tzinfo=tz).timestamp())
    site.reading("power", "power_w", 2000)
    assert site.service.list() == []
    site.clock.set(datetime(2026, 11, 20, 22, 0, tzinfo=tz).timestamp())
    site.reading("power", "power_w", 2000)
    assert len(site.service.list(open_only=True)) == 1


def test_broken_rule_input_does_not_stop_others(make: Any) -> None:
    site = make([FRIDGE, {**FRIDGE, "id": "fridge-hot", "above": 20, "clear_below": None, "for": "0s"}])
    site.reading("kitchen-fridge", "temperature", 25.0)
    assert [a.rule for a in site.service.list(open_only=True)] == ["fridge-hot"]
    assert site.alerting.engine.stats().errors == 0
