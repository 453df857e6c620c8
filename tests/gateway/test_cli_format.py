"""Values as `houqin query`/`tail` print them: every digit of a meter total, state names, units."""

from __future__ import annotations

import pytest

from gateway.cli.query import format_value


@pytest.mark.parametrize(("metric", "value", "shown"), [
    ("energy_wh", 9123456.1, "9123456.1 Wh"),  # ":g" printed "9.12346e+06 Wh": a growing total looked frozen
    ("energy_wh", 9123457.0, "9123457.0 Wh"),
    ("total_l", 183245.5, "183245.5 L"),
    ("total_l", 183245.55, "183245.55 L"),
    ("temperature", 3.5, "3.5 °C"),
    ("temperature", -18.375, "-18.375 °C"),
    ("contact", 1.0, "open"),
    ("water_leak", 0.0, "dry"),
])
def test_values_for_people(metric: str, value: float, shown: str) -> None:
    assert format_value(metric, value) == shown


def test_two_successive_totals_never_print_the_same() -> None:
    a, b = format_value("energy_wh", 9123456.0), format_value("energy_wh", 9123457.0)
    assert a != b
