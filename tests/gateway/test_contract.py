import json

import pytest

from gateway import contract
from gateway.values import format_duration, parse_duration


def test_topics_round_trip() -> None:
    t = contract.state_topic("kg", "kitchen-fridge")
    assert t == "houqin/kg/kitchen-fridge/state"
    parts = contract.parse_topic(t)
    assert parts == contract.TopicParts("kg", "kitchen-fridge", "state")
    assert contract.parse_topic("houqin/kg/x/unknown") is None
    assert contract.parse_topic("tele/x/SENSOR") is None
    assert contract.alerts_topic("kg", "fridge-warm", "kitchen-fridge") == "houqin/kg/alerts/fridge-warm/kitchen-fridge"


def test_native_payloads() -> None:
    body = json.loads(contract.encode_state({"temperature": 4.2}, ts=1790000000.12345, seq=7))
    assert body == {"temperature": 4.2, "ts": 1790000000.123, "seq": 7}
    ev = json.loads(contract.encode_event("card", uid="04A1B2C3"))
    assert ev == {"type": "card", "uid": "04A1B2C3"}


def test_state_metrics_map_names_to_numbers_and_back() -> None:
    assert contract.state_value("contact", "open") == 1.0
    assert contract.state_value("contact", "closed") == 0.0
    assert contract.state_value("water_leak", True) == 1.0
    assert contract.display_value("contact", 1.0) == "open"
    assert contract.display_value("temperature", 4.5) == 4.5
    with pytest.raises(ValueError):
        contract.state_value("contact", "ajar")
    with pytest.raises(ValueError):
        contract.state_value("temperature", "open")


@pytest.mark.parametrize(
    ("text", "seconds"), [("10m", 600), ("2h", 7200), ("1h30m", 5400), ("45s", 45), ("7d", 604800), (90, 90)]
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "10", "ten minutes", "5x", "-3m", True])
def test_bad_durations_name_the_format(bad: object) -> None:
    with pytest.raises(ValueError, match=r"duration|negative"):
        parse_duration(bad)  # type: ignore[arg-type]


def test_format_duration() -> None:
    assert format_duration(3900) == "1h05m"
    assert format_duration(59) == "59s"
