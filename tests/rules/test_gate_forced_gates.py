"""``gate_forced`` with several gates in one rule: each gate is excused only by its own readers and buttons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.errors import ConfigError
from tests.rules.site import FRI_2AM, Site
from tests.waiting import COMMIT_WINDOW

DEVICES = [
    {"id": "front-gate", "kind": "gate"}, {"id": "front-reader", "kind": "card_reader"},
    {"id": "front-button", "kind": "exit_button"}, {"id": "front-lock", "kind": "relay"},
    {"id": "back-gate", "kind": "gate"}, {"id": "back-reader", "kind": "card_reader"},
]
RULE: dict[str, Any] = {
    "id": "forced", "kind": "gate_forced", "devices": ["front-gate", "back-gate"], "window": "10s", "grace": "2s",
    "authorized_by": {"front-gate": ["front-reader", "front-button"], "back-gate": ["back-reader"]},
}


def _config(tmp_path: Path, rule: dict[str, Any]) -> Any:
    return parse_config({"site": {"id": "kg"},
                         "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
                         "devices": DEVICES,
                         "gate": {"readers": [{"device": "front-reader", "relay": "front-lock"},
                                              {"device": "back-reader"}]},
                         "rules": [rule]})


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(_config(tmp_path, RULE), ManualClock(FRI_2AM), start=False)
    s.reading("front-gate", "contact", 0.0)
    s.reading("back-gate", "contact", 0.0)
    yield s
    s.close()


def _open_and_close(site: Site, gate: str) -> None:
    site.reading(gate, "contact", 1.0)
    site.advance(5, step=1)  # past the grace period
    site.reading(gate, "contact", 0.0)


def test_a_card_at_gate_a_does_not_excuse_gate_b(site: Site) -> None:
    site.event("front-reader", "card", uid="04A1B2C3", accepted=True)
    site.advance(2, step=1)
    _open_and_close(site, "back-gate")  # someone forced the back gate while a card was used at the front
    [a] = site.service.list(open_only=True)
    assert (a.rule, a.device) == ("forced", "back-gate")
    _open_and_close(site, "front-gate")  # the front gate, opened by that card, is fine
    assert [x.device for x in site.service.list(open_only=True)] == ["back-gate"]


def test_each_gate_is_excused_by_its_own_devices(site: Site) -> None:
    for gate, device, kind in (("back-gate", "back-reader", "card"), ("front-gate", "front-button", "button"),
                               ("back-gate", "back-gate", "button"),
                               # the front reader's lock relay ([[gate.readers]] relay), released at the dashboard
                               ("front-gate", "front-lock", "release")):
        site.advance(60)
        site.event(device, kind, uid="04A1B2C3", accepted=True)
        site.advance(1, step=1)
        _open_and_close(site, gate)
        assert site.service.list() == [], (gate, device)


def test_the_front_lock_release_does_not_excuse_the_back_gate(site: Site) -> None:
    site.event("front-lock", "release", reason="released at the dashboard by wang")
    site.advance(1, step=1)
    _open_and_close(site, "back-gate")
    [a] = site.service.list(open_only=True)
    assert a.device == "back-gate"


def test_a_late_event_at_the_other_gate_does_not_excuse_either(site: Site) -> None:
    site.reading("front-gate", "contact", 1.0)
    site.advance(1, step=1)
    site.event("back-reader", "card", uid="04A1B2C3", accepted=True)  # within the grace, but the wrong gate
    site.advance(4, step=1)
    [a] = site.service.list(open_only=True)
    assert a.device == "front-gate"


@pytest.mark.parametrize(("authorized_by", "expected"), [
    (["front-reader", "back-reader"], "one list for 2 gates (front-gate, back-gate)"),
    ({"front-gate": ["front-reader"]}, "gate 'back-gate' has no entry in authorized_by"),
    ({"front-gate": ["front-reader"], "back-gate": [], "side-gate": ["back-reader"]},
     "authorized_by names gate 'side-gate', which is not one of the rule's devices"),
    ({"front-gate": ["front-reder"], "back-gate": []},
     "authorized_by entry \"front-reder\" (rule 'forced'): matches no [[devices]]"),
])
def test_config_says_which_devices_belong_to_which_gate(tmp_path: Path, authorized_by: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, {**RULE, "authorized_by": authorized_by})
    assert expected in str(err.value)


def test_one_gate_keeps_the_plain_list(tmp_path: Path) -> None:
    cfg = _config(tmp_path, {**RULE, "devices": ["front-gate"], "authorized_by": ["front-reader", "front-button"]})
    assert cfg.rules[0].id == "forced"
