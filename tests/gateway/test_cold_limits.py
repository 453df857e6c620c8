"""Cold-storage limits: the sheet takes the rules' range as a whole, the dashboard side by side."""

from __future__ import annotations

from typing import Any

from gateway.cold_limits import chart_limits, cold_limits, rule_limits
from gateway.config import Config, parse_config


def config(rules: list[dict[str, Any]]) -> Config:
    return parse_config({
        "site": {"id": "kg"},
        "mqtt": {"url": "mqtt://127.0.0.1:1"},
        "devices": [{"id": "fridge-1", "kind": "fridge"}, {"id": "fridge-2", "kind": "fridge"},
                    {"id": "freezer", "kind": "freezer"}, {"id": "gate", "kind": "gate"}],
        "rules": rules,
    })


def device(cfg: Config, name: str) -> Any:
    return next(d for d in cfg.devices if d.id == name)


def test_no_rule_means_the_kinds_range() -> None:
    cfg = config([])
    assert rule_limits(cfg, device(cfg, "fridge-1")) is None
    for fn in (cold_limits, chart_limits):
        assert fn(cfg, device(cfg, "fridge-1")) == (0.0, 8.0)
        assert fn(cfg, device(cfg, "freezer")) == (None, -18.0)
        assert fn(cfg, device(cfg, "gate")) == (None, None)


def test_one_sided_rule_sheet_takes_it_whole_dashboard_fills_the_other_side_by_kind() -> None:
    cfg = config([{"id": "warm", "kind": "threshold", "devices": ["fridge-1"], "above": 6.0, "for": "10m"}])
    assert cold_limits(cfg, device(cfg, "fridge-1")) == (None, 6.0)
    assert chart_limits(cfg, device(cfg, "fridge-1")) == (0.0, 6.0)
    assert cold_limits(cfg, device(cfg, "fridge-2")) == (0.0, 8.0)  # not named by the rule


def test_tightest_rule_wins_and_patterns_match() -> None:
    cfg = config([
        {"id": "warm", "kind": "threshold", "devices": ["fridge-*"], "above": 7.0, "for": "10m"},
        {"id": "hot", "kind": "threshold", "devices": ["fridge-1"], "above": 5.0, "below": 1.0, "for": "1m"},
        {"id": "cold", "kind": "threshold", "devices": ["fridge-1"], "below": 2.0, "for": "1m"},
    ])
    assert rule_limits(cfg, device(cfg, "fridge-1")) == (2.0, 5.0)
    assert rule_limits(cfg, device(cfg, "fridge-2")) == (None, 7.0)
    assert chart_limits(cfg, device(cfg, "fridge-2")) == (0.0, 7.0)
