"""The device kind and format tables: each fact names only things that exist, and the others read them."""

from __future__ import annotations

from typing import get_args

import pytest

from gateway.config import parse_config
from gateway.contract import METRICS
from gateway.decoders import registry
from gateway.errors import ConfigError
from gateway.i18n import translations
from gateway.kinds import FORMATS, KINDS
from sensors.config import ANY_KIND, PulseSettings, SensorSettings, kinds_fed_by


def _sensor_types() -> set[str]:
    """Every ``[[sensors]]`` type the agent knows, pulse counters as ``pulse:<meter>``."""
    union = get_args(get_args(SensorSettings)[0])
    types = {t for model in union for t in get_args(model.model_fields["type"].annotation)}
    meters = get_args(PulseSettings.model_fields["meter"].annotation)
    return (types - {"pulse"}) | {f"pulse:{m}" for m in meters}


def test_every_format_has_its_decoder_and_every_decoder_a_format() -> None:
    assert list(registry()) == list(FORMATS)


def test_kinds_name_only_canonical_metrics_and_known_sensor_types() -> None:
    known = _sensor_types()
    for kind in KINDS.values():
        assert set(kind.metrics) <= set(METRICS), kind.id
        assert set(kind.sensor_types) <= known, kind.id
    for fmt in FORMATS.values():
        assert set(fmt.extra_metrics) <= set(METRICS), fmt.id
    assert set(ANY_KIND) <= known


def test_what_the_kinds_mean() -> None:
    assert [k for k, v in KINDS.items() if v.cold] == ["fridge", "freezer", "sample_fridge", "cold_room"]
    assert KINDS["freezer"].cold_limits == (None, -18.0)
    assert [k for k, v in KINDS.items() if v.keeps_samples] == ["fridge", "sample_fridge", "cold_room"]
    assert {k: v.total for k, v in KINDS.items() if v.total} == {"water_meter": "total_l", "power_meter": "energy_wh"}
    assert [k for k, v in KINDS.items() if v.contact] == ["gate", "door"]
    assert KINDS["water_meter"].main_metric is None  # a lone number from a meter could be flow or total
    assert KINDS["leak"].main_metric == "water_leak"


def test_which_sensors_may_feed_which_kinds() -> None:
    assert kinds_fed_by("ds18b20") == {"fridge", "freezer", "sample_fridge", "cold_room", "thermometer"}
    assert kinds_fed_by("pulse:water") == {"water_meter"}
    assert kinds_fed_by("button") == {"exit_button", "gate", "door"}
    assert kinds_fed_by("card_reader") == {"card_reader", "gate", "door"}
    assert kinds_fed_by("buzzer") is None


def test_the_config_takes_exactly_the_kinds_and_formats_of_the_tables() -> None:
    for kind in KINDS:
        for fmt in FORMATS:
            device = {"id": "d", "kind": kind, "format": fmt, "topic": "t", "metric": "temperature"}
            assert parse_config({"site": {"id": "kg"}, "devices": [device]}).devices[0].kind == kind
    with pytest.raises(ConfigError) as err:
        parse_config({"site": {"id": "kg"}, "devices": [{"id": "d", "kind": "toaster", "format": "x10"}]})
    text = str(err.value)
    assert 'devices[0].kind = "toaster": must be one of' in text and '"sample_fridge"' in text
    assert 'devices[0].format = "x10": must be one of' in text and '"zigbee2mqtt"' in text


def test_every_kind_label_has_a_chinese_translation() -> None:
    tr = translations("zh-CN")
    assert [k.id for k in KINDS.values() if tr.gettext(k.label) == k.label] == []
    assert tr.gettext(KINDS["sample_fridge"].label) == "留样冰箱"
