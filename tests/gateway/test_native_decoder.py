from __future__ import annotations

import math

import pytest

from gateway.config import DeviceSettings
from gateway.decoders import native, registry
from gateway.errors import DecodeError
from gateway.model import Availability, Event, Reading

NOW = 1_790_000_000.0
FRIDGE = DeviceSettings(id="fridge-1", kind="fridge")


def decode(channel: str, payload: bytes) -> object:
    return native.decode(FRIDGE, f"houqin/site/fridge-1/{channel}", payload, NOW)


def test_registry_has_native() -> None:
    assert registry()["native"] is native


def test_topics_are_the_contract_topics() -> None:
    assert native.topics(FRIDGE, "kg") == [
        "houqin/kg/fridge-1/state", "houqin/kg/fridge-1/event", "houqin/kg/fridge-1/availability"]


def test_state_with_ts_and_seq() -> None:
    d = native.decode(FRIDGE, "houqin/kg/fridge-1/state", b'{"temperature": 4.2, "ts": 1790000001.5, "seq": 7}', NOW)
    assert d.readings == [Reading(1790000001.5, "fridge-1", "temperature", 4.2)]
    assert d.seq == 7


def test_state_without_ts_uses_now_and_int_becomes_float() -> None:
    d = native.decode(FRIDGE, "houqin/kg/fridge-1/state", b'{"total_l": 183245, "flow_lpm": 0}', NOW)
    assert d.readings == [Reading(NOW, "fridge-1", "total_l", 183245.0), Reading(NOW, "fridge-1", "flow_lpm", 0.0)]
    assert d.seq is None


@pytest.mark.parametrize(("payload", "value"), [
    (b'{"contact": "open"}', 1.0), (b'{"contact": "closed"}', 0.0), (b'{"contact": true}', 1.0),
    (b'{"water_leak": true}', 1.0), (b'{"water_leak": false}', 0.0), (b'{"water_leak": "leak"}', 1.0),
    (b'{"contact": 0}', 0.0),
])
def test_state_metrics_become_numbers(payload: bytes, value: float) -> None:
    d = native.decode(FRIDGE, "houqin/kg/fridge-1/state", payload, NOW)
    assert [r.value for r in d.readings] == [value]


def test_event() -> None:
    d = native.decode(FRIDGE, "houqin/kg/fridge-1/event", b'{"type": "card", "uid": "04A1B2C3", "ts": 1790000002}',
                      NOW)
    assert d.events == [Event(1790000002.0, "fridge-1", "card", {"uid": "04A1B2C3"})]


@pytest.mark.parametrize(("payload", "online"), [(b"online", True), (b"offline", False), (b" Online\n", True)])
def test_availability(payload: bytes, online: bool) -> None:
    d = native.decode(FRIDGE, "houqin/kg/fridge-1/availability", payload, NOW)
    assert d.availability == [Availability(NOW, "fridge-1", online)]


def test_nan_decodes_for_validation_to_refuse() -> None:
    d = native.decode(FRIDGE, "houqin/kg/fridge-1/state", b'{"temperature": NaN}', NOW)
    assert math.isnan(d.readings[0].value)


@pytest.mark.parametrize(("channel", "payload", "reason"), [
    ("state", b'{"temperature": 4.2', "not_json"),
    ("state", b"[1,2,3]", "not_object"),
    ("state", b'"4.2"', "not_object"),
    ("state", b'{"temperature": "hot"}', "wrong_type"),
    ("state", b'{"temperature": true}', "wrong_type"),
    ("state", b'{"temperature": null}', "wrong_type"),
    ("state", b'{"contact": "ajar"}', "wrong_type"),
    ("state", b'{"contact": 2}', "wrong_type"),
    ("state", b'{"colour": 3}', "unknown_metric"),
    ("state", b'{"ts": 1790000000}', "no_metrics"),
    ("state", b'{"temperature": 4, "ts": "yesterday"}', "wrong_type"),
    ("state", b'{"temperature": 4, "seq": -1}', "wrong_type"),
    ("state", b'{"temperature": 4, "seq": 1.5}', "wrong_type"),
    ("state", b"\xff\xfe\x00", "bad_utf8"),
    ("event", b'{"uid": "x"}', "no_type"),
    ("event", b'{"type": ""}', "no_type"),
    ("availability", b"maybe", "bad_availability"),
    ("set", b'{"relay": "pulse"}', "bad_topic"),
])
def test_bad_payloads_raise_decode_error(channel: str, payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as e:
        native.decode(FRIDGE, f"houqin/kg/fridge-1/{channel}", payload, NOW)
    assert e.value.reason == reason
    assert isinstance(e.value, ValueError)


def test_unknown_metric_lists_known_ones() -> None:
    with pytest.raises(DecodeError) as e:
        native.decode(FRIDGE, "houqin/kg/fridge-1/state", b'{"temp": 4}', NOW)
    assert "temperature" in e.value.detail


def test_bad_topic() -> None:
    with pytest.raises(DecodeError) as e:
        native.decode(FRIDGE, "tele/fridge/SENSOR", b"{}", NOW)
    assert e.value.reason == "bad_topic"
