"""The shipped example config stays valid and secret-free."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.config import load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "houqin.example.toml"


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    kinds = {d.kind for d in cfg.devices}
    assert {"fridge", "freezer", "sample_fridge", "water_meter", "power_meter", "gate", "card_reader",
            "exit_button"} <= kinds
    assert not cfg.mqtt.embedded and cfg.mqtt.address().password is None


def test_example_config_holds_no_password() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(password|secret|token)\s*=", text, re.MULTILINE)
