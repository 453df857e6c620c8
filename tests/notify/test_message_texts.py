"""Notification texts as people read them (zh-CN catalogs, real rules and alert store); ``houqin ack`` notes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.clock import ManualClock
from gateway.notify.messages import Composer
from gateway.rules.describe import describe
from tests.rules.site import FRI_2AM, Site, config

GATE_HELD = {"id": "gate-held", "kind": "gate_held_open", "devices": ["gate"], "for": "2m"}
LEAK = {"id": "leak", "kind": "water_leak", "devices": ["sink-leak"]}
SILENT = {"id": "silent", "kind": "stale", "devices": ["kitchen-fridge", "kitchen-freezer"], "for": "15m"}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(config(tmp_path, [GATE_HELD, LEAK, SILENT], locale="zh-CN"), ManualClock(FRI_2AM), start=False)
    yield s
    s.close()


def composer(site: Site) -> Composer:
    return site.alerting.escalator.composer


def test_state_values_are_the_gates_words_not_the_alert_states(site: Site) -> None:
    # The dashboard's catalog translates the alert state "open" as 未解除; a gate's contact is 开.
    site.reading("gate", "contact", 1.0)
    site.reading("sink-leak", "water_leak", 1.0)
    site.advance(3 * 60)
    by_rule = {a.rule: a for a in site.service.list(open_only=True)}
    gate = composer(site).compose("opened", by_rule["gate-held"]).text
    leak = composer(site).compose("opened", by_rule["leak"]).text
    assert "当前值：开" in gate and "未解除" not in gate
    assert "当前值：漏水" in leak


def test_acknowledgement_without_a_note_has_no_dangling_colon(site: Site) -> None:
    site.reading("gate", "contact", 1.0)
    site.advance(3 * 60)
    [a] = site.service.list(open_only=True)
    bare = site.service.ack(a.id, "王师傅", "")  # the dashboard allows it
    assert "王师傅 已确认\n" in composer(site).compose("acknowledged", bare).text
    site.reading("gate", "contact", 0.0)
    site.reading("gate", "contact", 1.0)
    site.advance(3 * 60)
    [b] = site.service.list(open_only=True)
    noted = site.service.ack(b.id, "王师傅", "送货车，已关门")
    assert "王师傅 已确认：送货车，已关门" in composer(site).compose("acknowledged", noted).text


def test_silent_device_says_when_it_was_last_heard_or_that_it_never_was(site: Site) -> None:
    site.reading("kitchen-fridge", "temperature", 4.0)
    site.advance(5 * 60)
    heard_at = site.clock.now()
    site.reading("kitchen-fridge", "temperature", 4.1)
    site.advance(15 * 60)
    by_device = {a.device: a for a in site.service.list(open_only=True)}
    fridge = composer(site).compose("opened", by_device["kitchen-fridge"]).text
    freezer = composer(site).compose("opened", by_device["kitchen-freezer"]).text
    assert by_device["kitchen-fridge"].since == heard_at
    assert "最后收到数据：2026-11-20 02:05" in fridge and "从未" not in fridge
    assert "从未收到数据（自 2026-11-20 02:00 起监视）" in freezer and "最后收到数据" not in freezer


def test_cli_ack_needs_a_note_saying_what_was_done(site: Site, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    site.reading("gate", "contact", 1.0)
    site.advance(3 * 60)
    [a] = site.service.list(open_only=True)
    toml = tmp_path / "houqin.toml"
    toml.write_text(f'[site]\nid = "kg"\n\n[storage]\ndir = "{site.cfg.storage.path}"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["ack", str(a.id), "--by", "王师傅", "--note", "  ", "--config", str(toml)]) == 1
    assert "--note" in capsys.readouterr().err
    assert site.service.get(a.id).state == "active"
    assert main(["ack", str(a.id), "--by", "王师傅", "--note", "关好了大门", "--config", str(toml)]) == 0
    acked = site.service.get(a.id)
    assert (acked.state, acked.acked_by, acked.ack_note) == ("acknowledged", "王师傅", "关好了大门")


def test_storage_alerts_say_what_happened(site: Site) -> None:
    from gateway.alerts.store import OpenRequest
    from gateway.storage_alerts import DEVICE, RULE_DROPPED

    detail = ("10 reading(s) dropped: the InfluxDB outbox was full (50 points) while InfluxDB was unreachable; "
              "last error: no answer")
    a = site.service.raise_alert(OpenRequest(rule=RULE_DROPPED, device=DEVICE, kind=RULE_DROPPED, severity="major",
                                             chain=None, metric=None, value=10.0, detail=detail,
                                             since=site.clock.now(), latch=True))
    text = composer(site).compose("opened", a).text
    assert text.startswith("[告警] influxdb: 读数丢失：InfluxDB 本地队列已满\n")
    assert f"详情：{detail}" in text


def test_durations_in_chinese_words(tmp_path: Path) -> None:
    rules: list[dict[str, Any]] = [
        {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8.0, "for": "1h30m"},
        {"id": "gate-held", "kind": "gate_held_open", "devices": ["gate"], "for": "45s"},
        {"id": "night-water", "kind": "continuous_flow", "devices": ["water"], "for": "2h"}]
    cfg = config(tmp_path, rules, locale="zh-CN")
    said = {r.id: describe(r, "zh-CN") for r in cfg.rules}
    assert said == {"fridge-warm": "温度高于 8.0 °C 持续 1小时30分钟", "gate-held": "大门打开超过 45秒",
                    "night-water": "持续用水超过 2小时（疑似漏水）"}
    assert describe(cfg.rules[0], "en") == "temperature above 8.0 °C for 1h30m"


def test_resolved_message_does_not_call_the_old_value_current(site: Site) -> None:
    site.reading("sink-leak", "water_leak", 1.0)
    [a] = site.service.list(open_only=True)
    site.reading("sink-leak", "water_leak", 0.0)
    resolved = composer(site).compose("resolved", site.service.get(a.id)).text
    assert "告警时数值：漏水" in resolved and "当前值" not in resolved
    assert "当前值：漏水" in composer(site).compose("opened", a).text
