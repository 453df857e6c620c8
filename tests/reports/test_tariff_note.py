"""The tariff line printed under each meter of the weekly report."""

from __future__ import annotations

from pathlib import Path

from gateway.reports.tariff import unit_price_note
from tests.reports.series import make_config


def test_tariff_notes_for_flat_tiered_and_bands_with_and_without_names(tmp_path: Path) -> None:
    tariff = {"currency": "¥", "water": {"kind": "tiered", "tiers": [{"up_to": 30, "price": 3.0}, {"price": 5.0}]},
              "power": {"kind": "peak_valley", "price": 0.7, "bands": [
                  {"from": "08:00", "to": "11:00", "price": 1.2},
                  {"name": "谷", "from": "23:00", "to": "07:00", "price": 0.3}]},
              "devices": {"water": {"kind": "flat", "price": 4.2}}}
    t = make_config(tmp_path, reports={"tariff": tariff}).reports.tariff
    assert unit_price_note(t.for_meter("power", False), "¥", "kWh") == \
        "08:00-11:00 ¥1.20, 谷 23:00-07:00 ¥0.30; ¥0.70/kWh"
    assert unit_price_note(t.for_meter("water", True), "¥", "m³") == "¥4.20/m³"
    assert unit_price_note(t.for_meter("other-water", True), "¥", "m³") == "≤30 ¥3.00 / ¥5.00 /m³"
    assert unit_price_note(None, "¥", "m³") == ""
