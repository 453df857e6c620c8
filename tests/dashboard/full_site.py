"""A served site with something on every page, like the demo after a few weeks: eight cold units with
alerts and corrections on the sheet, food samples, five weeks of meters, cards, visitors in every state,
a watch-list entry, patrol check-ins, a handover, and alerts of every area; users of every role.

Long Chinese names and notes on purpose: they are what squeezes columns on a phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from dashboard.app import create_app
from dashboard.context import DashboardContext
from dashboard.server import DashboardServer
from gateway.alerts import AlertService, AlertStore
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.reports.samples import SampleLedger
from gateway.reports.sheet import ColdSheet
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import PASSWORD, ROLE_USERS, cheap_hasher, dashboard_services
from tests.reports.series import local_ts, write_temps
from tests.reports.test_weekly import TZ, build_site

#: The day the sheet and the samples are about; the clock stands two days later, mid-afternoon.
DAY = date(2026, 1, 5)
NOW = local_ts(date(2026, 1, 7), 15, 0, TZ)

COLD = [
    {"id": "fridge", "kind": "fridge", "name": "厨房冷藏冰箱（主厨房一号）", "location": "主厨房"},
    {"id": "fridge-2", "kind": "fridge", "name": "厨房冷藏冰箱（二号）", "location": "主厨房"},
    {"id": "fridge-3", "kind": "fridge", "name": "面点间冷藏柜", "location": "面点间"},
    {"id": "fridge-4", "kind": "fridge", "name": "饮料冷藏柜", "location": "备餐间"},
    {"id": "sample-fridge", "kind": "sample_fridge", "name": "留样冰箱", "location": "留样间"},
    {"id": "freezer", "kind": "freezer", "name": "冷冻柜（肉类）", "location": "主厨房"},
    {"id": "freezer-2", "kind": "freezer", "name": "冷冻柜（水产）", "location": "主厨房"},
    {"id": "cold-room", "kind": "cold_room", "name": "蔬菜冷库", "location": "仓库"},
    {"id": "fridge-milk", "kind": "fridge", "name": "保健室药品冷藏箱", "location": "保健室"},
]
DEVICES: list[dict[str, Any]] = [
    {"id": "water", "kind": "water_meter", "name": "总水表（教学楼）"},
    {"id": "power", "kind": "power_meter", "name": "总电表（教学楼）"},
    *COLD,
    {"id": "gate", "kind": "gate", "name": "大门"},
    {"id": "reader", "kind": "card_reader", "name": "大门读卡器"},
    {"id": "kitchen-reader", "kind": "card_reader", "name": "厨房巡更点"},
    {"id": "uv-1", "kind": "uv_lamp", "name": "小一班紫外线消毒灯（靠窗）"},
]
#: Logistics records (issue 17): a daily kitchen checklist with sensor evidence, two rooms to disinfect.
INSPECTIONS: dict[str, Any] = {
    "checklists": [{"id": "kitchen-daily", "name": "厨房每日安全检查（开餐前）", "role": "kitchen",
                    "window": "07:00-09:00",
                    "items": [{"id": "fridge", "text": "冷藏冰箱温度在 0–8 °C 之间，门封条完好", "devices": ["fridge"]},
                              {"id": "water", "text": "夜间无异常用水", "devices": ["water"]},
                              {"id": "gas", "text": "燃气阀已关，燃气报警器指示灯正常"}]}],
    "disinfection": {"window": "18:00-24:00",
                     "rooms": [{"id": "class-1", "name": "小一班", "plug": "uv-1"},
                               {"id": "class-2", "name": "小二班"}]},
}
GATE = {
    "readers": [{"device": "reader", "relay": "gate", "direction": "in"}],
    "patrols": [{"id": "night", "name": "夜间巡逻", "rounds": ["22:00-23:00", "02:00-03:00"],
                 "checkpoints": [{"id": "kitchen", "name": "厨房", "reader": "kitchen-reader",
                                  "devices": ["fridge"]},
                                 {"id": "meter-room", "name": "配电房", "tag": "TAG0001"}]}],
}


@dataclass
class FullSite:
    """The parts of the served site a test needs: its URL, ids of records, the clock and the store."""

    url: str
    app: FastAPI
    ctx: DashboardContext
    clock: ManualClock
    store: SqliteStore
    ids: dict[str, int] = field(default_factory=dict)
    token: str = ""


def _temps(store: SqliteStore) -> None:
    start, end = local_ts(DAY, 0, 0, TZ), local_ts(date(2026, 1, 8), 0, 0, TZ)
    for i, dev in enumerate(COLD):
        frozen = dev["kind"] == "freezer"
        base = -20.0 - i * 0.1 if frozen else 2.5 + i * 0.3
        warm_from = local_ts(DAY, 9 + i, 0, TZ)

        def temp(ts: float, base: float = base, warm_from: float = warm_from, i: int = i) -> float:
            if i % 3 == 0 and warm_from <= ts < warm_from + 1800:  # every third unit had a warm half hour
                return base + 9.0
            return base
        write_temps(store, str(dev["id"]), start, end, temp, every=300)


def _alerts(alerts: AlertService, clock: ManualClock) -> dict[str, int]:
    # the detail is one long word on purpose: the width it takes must not squeeze the unit's column
    ids: dict[str, int] = {}
    for i, dev in enumerate(COLD):
        if i % 3:
            continue
        opened = local_ts(DAY, 9 + i, 10, TZ)
        clock.set(opened)
        a = alerts.raise_alert(OpenRequest("fridge-warm", str(dev["id"]), "threshold", "major", None, "temperature",
                                           11.5, "temperature=11.5,door=open,compressor=off", opened))
        clock.set(opened + 900)
        alerts.ack(a.id, "李阿姨", "门没关严，已关好；食品中心温度 5 °C，照常使用，已通知维修师傅检查门封条")
        clock.set(opened + 1900)
        alerts.end("fridge-warm", str(dev["id"]))
        ids.setdefault("cold", a.id)
    clock.set(NOW - 3600)
    for rule, device, kind, metric, value, detail in (
            ("gate-held-open", "gate", "gate_held_open", "contact", 1.0, "open"),
            ("water-night", "water", "continuous_flow", "flow_lpm", 4.2, "4.2 L/min"),
            ("fridge-stale", "fridge-3", "stale", None, None, "offline")):
        a = alerts.raise_alert(OpenRequest(rule, device, kind, "critical" if device == "gate" else "major", None,
                                           metric, value, detail, clock.now()))
        ids.setdefault(device, a.id)
    return ids


def _gate(gate: Gate, clock: ManualClock) -> tuple[dict[str, int], str]:
    ids: dict[str, int] = {}
    clock.set(NOW - 6 * 3600)
    guard = gate.cards.add("GUARD001", "刘师傅（门卫）", "guard")
    ids["card"] = gate.cards.add("AA01B2C3", "李师傅（维修外包，水电）", "contractor", days="12345",
                                 hours="09:00-16:00", valid_until="2026-12-31", note="合同到年底").id
    gate.cards.add("DD0004", "赵老师（已离职）", "staff")
    for k in range(6):
        gate.cards.add(f"5TAFF{k:03d}", f"老师{k}", "staff")
    gate.on_card("reader", "AA01B2C3", clock.now())
    gate.on_card("reader", "FFFF0000", clock.now() + 60)  # an unknown card: refused
    gate.visitors.add_watch("王某某", "家长要求：不得接孩子（法院裁定）", "ada", phone="13900000000")
    pending = gate.register_visitor(name="张先生", phone="13800138000", organisation="区疾控中心食品安全科",
                                    purpose="食品安全检查，抽查留样记录和冷藏记录", host="王园长",
                                    id_number="110101199003071234", by="wang")
    ids["visitor"] = pending.id
    inside = gate.register_visitor(name="陈女士", phone="13700000000", organisation="绿洲食品配送有限公司",
                                   purpose="送货：蔬菜和肉类", host="厨房", by="wang")
    gate.decide_visitor(inside.id, True, "王园长")
    gate.sign_in(inside.id)
    gone = gate.register_visitor(name="刘师傅", phone="13600000000", organisation="电梯维保公司",
                                 purpose="电梯年检", host="后勤主任", by="wang")
    gate.decide_visitor(gone.id, True, "后勤主任")
    gate.sign_in(gone.id)
    gate.sign_out(gone.id)
    gate.register_visitor(name="王某某", phone="13900000000", purpose="接孩子", host="小二班", by="wang")
    clock.set(local_ts(date(2026, 1, 6), 22, 20, TZ))
    gate.on_card("kitchen-reader", guard.uid, clock.now())
    gate.on_card("kitchen-reader", "TAG0001", clock.now() + 300)
    clock.set(NOW - 2 * 3600)
    h = gate.write_handover("wang", "夜班无异常。早上7:40送货车到达，已登记；大门闭门器有点慢，已报修。",
                            "大门闭门器报修，等维修师傅回复")
    ids["handover"] = h.id
    clock.set(NOW)
    return ids, gate.approval_token(pending.id)


def _samples(ledger: SampleLedger, clock: ManualClock) -> None:
    clock.set(local_ts(DAY, 11, 40, TZ))
    ledger.register(DAY.isoformat(), "lunch", [("番茄炒蛋", "150"), ("红烧鸡块（去骨）", "130"), ("米饭", "125"),
                                               ("紫菜蛋花汤", "110")], "sample-fridge", "王师傅", by="li")
    ledger.register(DAY.isoformat(), "snack", [("水果拼盘", "100")], "sample-fridge", "王师傅", by="li")
    clock.set(local_ts(date(2026, 1, 7), 11, 30, TZ))
    ledger.register("2026-01-07", "lunch", [("清蒸鲈鱼", "130"), ("西兰花", "125")], "sample-fridge", "梁阿姨",
                    by="li")


@contextmanager
def full_site(tmp_path: Path) -> Iterator[FullSite]:
    """The site above, served by uvicorn on a free port, with one user per role (``ROLE_USERS``) and
    ``<name>-zh`` of each role reading Chinese."""
    cfg, store = build_site(tmp_path, locale="zh-CN", extra={"devices": DEVICES, "gate": GATE,
                                                              "inspections": INSPECTIONS,
                                                              "dashboard": {"bind": "127.0.0.1", "port": 0}})
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(NOW)
    alerts = AlertService(AlertStore(db), clock)
    _temps(store)
    ids = _alerts(alerts, clock)
    services = dashboard_services(cfg, db, clock, store, alerts, add_alert_listener=alerts.add_listener)
    gate_ids, token = _gate(services.gate, clock)
    ids.update(gate_ids)
    _samples(SampleLedger(cfg, db, clock, store), clock)
    clock.set(NOW)
    sheet = ColdSheet(cfg, store, db, clock)
    sheet.correct("fridge", DAY, "corrective_action", "已通知维修师傅更换门封条，次日复查温度正常", "补记纠正措施",
                  "李阿姨")
    sheet.correct("fridge-2", DAY, "note", "上午停电二十分钟，温度读数为手工记录", "停电期间无自动读数", "李阿姨")
    app = create_app(services, cfg.dashboard, hasher=cheap_hasher())
    ctx: DashboardContext = app.state.ctx
    for role, name in ROLE_USERS.items():
        ctx.accounts.add(name, role, PASSWORD, display_name=f"{name} 老师", locale="en")
        ctx.accounts.add(f"{name}-zh", role, PASSWORD, display_name=f"{name} 老师", locale="zh-CN")
    server = DashboardServer(app, ctx.settings)
    server.start()
    try:
        yield FullSite(server.url, app, ctx, clock, store, ids, token)
    finally:
        server.stop()
        store.close()
        db.close()
