"""Alerts raised outside ``[[rules]]`` (a patrol round not completed, food samples at risk) reach people
with what happened and the details (which checkpoints, which samples) in the site's language, through a
real chain and webhook receiver."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from gateway.alerting import Alerting
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.model import CommittedBatch, Reading
from gateway.reports.samples import SampleLedger, SampleWatch
from gateway.store.sqlite import SqliteStore
from tests.gate.helpers import DEVICES, local
from tests.notify.receivers import WebhookServer
from tests.reports.series import local_ts, make_config
from tests.waiting import COMMIT_WINDOW, wait_for

NOTIFY = {"channels": {"robot": {"type": "webhook", "format": "wecom", "url": "URL"}},
          "chains": {"duty": {"steps": [{"channels": ["robot"]}]}}}


def _notify(hook: WebhookServer) -> dict[str, Any]:
    return {"channels": {"robot": {**NOTIFY["channels"]["robot"], "url": hook.url()}},  # type: ignore[index]
            "chains": NOTIFY["chains"]}


def test_patrol_round_alert_names_the_missed_checkpoints_in_chinese(tmp_path: Path, hook: WebhookServer) -> None:
    (tmp_path / "data").mkdir()
    cfg = parse_config({
        "site": {"id": "kg", "name": "阳光幼儿园", "locale": "zh-CN"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "devices": DEVICES, "notify": _notify(hook),
        "gate": {"readers": [{"device": "reader", "relay": "gate", "direction": "in"}],
                 "patrols": [{"id": "night", "name": "夜间巡逻", "rounds": ["22:00-23:00"], "notify": "duty",
                              "checkpoints": [{"id": "kitchen", "name": "厨房", "reader": "kitchen-reader"},
                                              {"id": "meter-room", "name": "配电房", "tag": "TAG0001"},
                                              {"id": "back-gate", "name": "后门", "tag": "TAG0002"}]}]}})
    clock = ManualClock(local(2026, 11, 18, 21))
    db = EventsDB(tmp_path / "data" / "events.db")
    alerting = Alerting(cfg, db, clock)
    alerting.dispatcher.start()
    try:
        gate = Gate(cfg, db, clock, alerts=alerting.service)
        gate.cards.add("G001", "张师傅", "guard")
        gate.tick()
        clock.set(local(2026, 11, 18, 22, 10))
        gate.on_card("kitchen-reader", "G001", clock.now())
        clock.set(local(2026, 11, 18, 23, 0) + 1)
        gate.tick()
        alerting.tick()
        wait_for(lambda: len(hook.received) == 1, "the patrol alert at the guards' robot")
        text = hook.received[0].body["text"]["content"]
    finally:
        alerting.dispatcher.stop()
        alerting.store.close()
        db.close()
    first, *lines = text.splitlines()
    # The round's route, not the card reader that logs it, is where the alert is (issue 12).
    assert first == "[告警] 夜间巡逻: 巡逻未按时完成"
    assert "详情：夜间巡逻 11-18 22:00–23:00：未完成，到达 1/3 个巡逻点；未到：配电房、后门" in lines
    assert not any(line.startswith("当前值") for line in lines)  # a count of checkpoints is no reading


def test_sample_alert_names_the_samples_in_chinese(tmp_path: Path, hook: WebhookServer) -> None:
    tz = "Asia/Shanghai"
    cfg = make_config(tmp_path, tz=tz, locale="zh-CN", notify=_notify(hook), reports={"samples": {"notify": "duty"}})
    clock = ManualClock(local_ts(date(2026, 11, 19), 12, 0, tz))
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    alerting = Alerting(cfg, db, clock)
    alerting.dispatcher.start()
    try:
        ledger = SampleLedger(cfg, db, clock, store)
        watch = SampleWatch(ledger, alerting.service, "zh-CN")
        sample, _ = ledger.register("2026-11-19", "lunch", [("番茄炒蛋", "150")], "sample-fridge", "王师傅", by="li")
        for minute in range(15):
            r = Reading(clock.now(), "sample-fridge", "temperature", 4.0 if minute < 3 else 9.6)
            store.write([r])
            watch.on_batch(CommittedBatch((r,)))
            alerting.tick()
            clock.advance(60)
        wait_for(lambda: len(hook.received) == 1, "the sample alert at the kitchen's robot")
        text = hook.received[0].body["text"]["content"]
    finally:
        alerting.dispatcher.stop()
        alerting.store.close()
        store.close()
        db.close()
    first, *lines = text.splitlines()
    assert first == "[告警] Sample fridge: 留样可能受影响：冰箱温度超出范围"
    assert f"详情：留样 #{sample.id} 2026-11-19 午餐：9.6 °C 已持续 10分钟（11-19 12:03 起）" in lines
