"""Every recorded device payload (shared fixtures and more from each project's docs) decodes as expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.config import DeviceSettings
from gateway.decoders import registry
from gateway.errors import DecodeError
from gateway.model import Decoded

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHARED = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "fixtures" / "device-payloads.json"
#: A fixed "now" for the gateway clock (2026-11-20T01:31:00Z), near the fixtures' own timestamps.
NOW = 1795138260.0
#: Auxiliary electrical figures a decoder may add to what the shared fixtures list.
AUX = {"voltage_v", "current_a"}
KIND_OF_METRIC = {
    "temperature": "fridge",
    "humidity_pct": "thermometer",
    "contact": "door",
    "water_leak": "leak",
    "energy_wh": "power_meter",
    "power_w": "power_meter",
    "pulses": "water_meter",
    "total_l": "water_meter",
}


def _load(name: str) -> dict[str, Any]:
    path = SHARED if name == "device-payloads.json" and SHARED.exists() else FIXTURES / name
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


SHARED_CASES = _load("device-payloads.json")["cases"]
MORE = _load("more-device-payloads.json")


def _payload(raw: str) -> bytes:
    if raw.startswith("<bytes ") and raw.endswith(">"):
        return bytes.fromhex(raw[len("<bytes "):-1])
    return raw.encode("utf-8")


def _device(case: dict[str, Any], probe: str | None = None, dev_id: str = "dev") -> DeviceSettings:
    settings: dict[str, Any] = {"id": dev_id, "format": case["format"], "topic": case["topic"]}
    first = next((e for e in case.get("expect", []) if "metric" in e), None)
    settings["kind"] = KIND_OF_METRIC.get(first["metric"], "thermometer") if first else "thermometer"
    if case["format"] == "plain":
        settings["metric"] = first["metric"] if first else "temperature"
    settings.update(case.get("device", {}))
    if probe is not None:
        settings["probe"] = probe
    return DeviceSettings.model_validate(settings)


def _value(expect: dict[str, Any]) -> float:
    metric, value = expect["metric"], expect["value"]
    if contract.METRICS[metric].states is not None and isinstance(value, str | bool):
        return contract.state_value(metric, value)
    return float(value)


def _decode(case: dict[str, Any], device: DeviceSettings, subscribed: bool = True) -> Decoded:
    decoder = registry()[case["format"]]
    topic = case.get("publish_topic", case["topic"])
    assert not subscribed or any(_matches(f, topic) for f in decoder.topics(device, "kg")), f"{topic} is not subscribed"
    return decoder.decode(device, topic, _payload(case["payload"]), case.get("now", NOW))


def _matches(topic_filter: str, topic: str) -> bool:
    f, t = topic_filter.split("/"), topic.split("/")
    if f and f[-1] == "#":
        return t[: len(f) - 1] == f[:-1] or all(a in ("+", b) for a, b in zip(f[:-1], t, strict=False))
    return len(f) == len(t) and all(a in ("+", b) for a, b in zip(f, t, strict=True))


def _check(case: dict[str, Any], exact: bool) -> None:
    expects = case["expect"]
    probes = sorted({e["probe"] for e in expects if "probe" in e})
    groups = {p: [e for e in expects if e.get("probe") == p] for p in probes} if probes else {None: expects}
    for probe, expected in groups.items():
        device = _device(case, probe, dev_id=f"dev-{(probe or 'x').lower()}")
        decoded = _decode(case, device)
        want_avail = [e["availability"] == "online" for e in expected if "availability" in e]
        assert [a.online for a in decoded.availability] == want_avail
        assert all(a.device == device.id for a in decoded.availability)
        want = sorted((e["metric"], _value(e)) for e in expected if "metric" in e)
        got = [(r.metric, r.value) for r in decoded.readings]
        assert all(r.device == device.id for r in decoded.readings)
        if not exact:
            wanted_metrics = {m for m, _ in want}
            got = [g for g in got if g[0] not in AUX or g[0] in wanted_metrics]
        got.sort()
        assert [m for m, _ in got] == [m for m, _ in want], case.get("note", "")
        for (_, g), (_, w) in zip(got, want, strict=True):
            assert g == pytest.approx(w, abs=1e-6)
        assert [e.type for e in decoded.events] == case.get("expect_events", [])
        assert all(e.device == device.id for e in decoded.events)
        if "expect_ts" in case:
            assert decoded.readings or decoded.availability
            assert all(r.ts == pytest.approx(case["expect_ts"]) for r in decoded.readings)


@pytest.mark.parametrize("case", SHARED_CASES, ids=[f"{c['format']}:{c['topic']}" for c in SHARED_CASES])
def test_shared_fixture_case(case: dict[str, Any]) -> None:
    _check(case, exact=False)


@pytest.mark.parametrize("case", MORE["cases"], ids=[f"{c['format']}:{c['topic']}:{i}"
                                                     for i, c in enumerate(MORE["cases"])])
def test_more_fixture_case(case: dict[str, Any]) -> None:
    _check(case, exact=True)


@pytest.mark.parametrize("case", MORE["malformed"], ids=[f"{c['format']}:{c['reason']}:{i}"
                                                         for i, c in enumerate(MORE["malformed"])])
def test_malformed_raises_decode_error(case: dict[str, Any]) -> None:
    device = _device(case)
    with pytest.raises(DecodeError) as err:
        _decode(case, device, subscribed=case["reason"] != "bad_topic")
    assert err.value.reason == case["reason"]
    assert err.value.detail, "a DecodeError must say what was wrong"


def test_every_format_is_registered() -> None:
    assert {"tasmota", "zigbee2mqtt", "shelly", "esphome", "plain"} <= set(registry())
