"""The patrols page speaks the guard's language: route, checkpoint and device names (not ids), readings with
their unit, and the time of a reading the sensor sent long before the check-in."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.app import create_app
from gateway.alerts import AlertService, AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok
from tests.gate.helpers import gate_config, local


def test_check_ins_show_names_units_and_old_readings(tmp_path: Path) -> None:
    cfg = gate_config(tmp_path)
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    clock = ManualClock(local(2026, 11, 18, 22, 10))
    try:
        alerts = AlertService(AlertStore(db), clock)
        app = create_app(dashboard_services(cfg, db, clock, store, alerts), cfg.dashboard, hasher=cheap_hasher())
        app.state.ctx.accounts.add("wang", "guard", PASSWORD, locale="zh-CN")
        gate: Gate = app.state.gate
        gate.cards.add("G001", "张保安", "guard")
        store.write([Reading(local(2026, 11, 18, 22, 5), "kitchen-fridge", "temperature", 4.5)])
        gate.on_card("kitchen-reader", "G001", clock.now())
        clock.set(local(2026, 11, 19, 22, 20))  # the fridge's sensor has been silent since last night
        gate.on_card("kitchen-reader", "G001", clock.now())
        with TestClient(app) as c:
            login_ok(c, "wang")
            page = c.get("/gate/patrols").text
    finally:
        store.close()
        db.close()
    assert "<b>Kitchen</b>" in page and "kitchen-reader" not in page  # the checkpoint's name
    assert "<td>Night round</td>" in page  # the route's name in the rounds table
    assert "(Kitchen fridge)" in page and "(kitchen-fridge)" not in page
    assert page.count("Kitchen fridge 4.5 °C") == 2 and "temperature" not in page
    assert page.count("读数时间") == 1  # only the second check-in's reading is a day old


def test_handover_and_roll_call_name_readers_and_routes(tmp_path: Path) -> None:
    cfg = gate_config(tmp_path)
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    clock = ManualClock(local(2026, 11, 18, 22, 10))
    try:
        app = create_app(dashboard_services(cfg, db, clock, store, AlertService(AlertStore(db), clock)), cfg.dashboard,
                         hasher=cheap_hasher())
        app.state.ctx.accounts.add("wang", "guard", PASSWORD, locale="zh-CN")
        gate: Gate = app.state.gate
        gate.cards.add("CC01", "赵师傅", "contractor")
        gate.on_card("reader", "CC01", clock.now())
        gate.tick()
        clock.set(local(2026, 11, 18, 23, 1))
        gate.tick()  # the 22:00-23:00 round is judged: missed
        with TestClient(app) as c:
            login_ok(c, "wang")
            handover = c.get("/gate/handover").text
            roll = c.get("/gate/rollcall").text
    finally:
        store.close()
        db.close()
    assert "赵师傅 · Gate reader ·" in handover and " · reader · " not in handover
    assert "Night round 22:00" in handover
    assert "<td>Gate reader</td>" in roll and "<td>reader</td>" not in roll
