from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import DeviceSettings
from gateway.meters import Meters, SeqFilter
from gateway.model import Reading
from gateway.store.ingest_state import IngestState
from gateway.store.sqlite import SqliteStore

T0 = 1_790_000_000.0
WATER = DeviceSettings(id="water", kind="water_meter")
PULSED = DeviceSettings(id="water", kind="water_meter", litres_per_pulse=0.5)
POWER_PULSED = DeviceSettings(id="power", kind="power_meter", wh_per_pulse=2.0)


def total(v: float, ts: float, metric: str = "total_l", device: str = "water") -> Reading:
    return Reading(ts, device, metric, v)


def usage(out: list[Reading]) -> list[float]:
    return [x.value for x in out if x.metric.startswith("usage_")]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "timeseries.db") as s:
        yield s


def test_first_total_has_no_usage_then_differences() -> None:
    m = Meters()
    out, refusals = m.apply(WATER, [total(100.0, T0)])
    assert out == [total(100.0, T0)] and refusals == []
    out, _ = m.apply(WATER, [total(112.5, T0 + 60)])
    assert out == [total(112.5, T0 + 60), Reading(T0 + 60, "water", "usage_l", 12.5)]


def test_energy_usage_metric() -> None:
    m = Meters()
    m.apply(None, [total(9000.0, T0, "energy_wh", "power")])
    out, _ = m.apply(None, [total(9100.0, T0 + 1, "energy_wh", "power")])
    assert out[1] == Reading(T0 + 1, "power", "usage_wh", 100.0)


def test_small_backwards_glitch_is_refused_and_old_total_kept() -> None:
    m = Meters()
    m.apply(WATER, [total(183245.5, T0)])
    out, refusals = m.apply(WATER, [total(183240.0, T0 + 60)])
    assert out == [] and [r.reason for r in refusals] == ["total_backwards"]
    assert m.last_total("water", "total_l") == 183245.5
    out, _ = m.apply(WATER, [total(183250.5, T0 + 120)])
    assert usage(out) == [5.0]


def test_counter_reset_counts_the_new_total_as_usage() -> None:
    m = Meters()
    m.apply(WATER, [total(183245.5, T0)])
    out, refusals = m.apply(WATER, [total(3.0, T0 + 60)])
    assert refusals == [] and usage(out) == [3.0]
    out, _ = m.apply(WATER, [total(10.0, T0 + 120)])
    assert usage(out) == [7.0]


def test_redelivered_or_late_total_is_stored_without_usage() -> None:
    m = Meters()
    m.apply(WATER, [total(100.0, T0)])
    m.apply(WATER, [total(110.0, T0 + 60)])
    out, refusals = m.apply(WATER, [total(110.0, T0 + 60)])
    assert out == [total(110.0, T0 + 60)] and refusals == []
    out, _ = m.apply(WATER, [total(105.0, T0 + 30)])
    assert usage(out) == []
    assert m.last_total("water", "total_l") == 110.0


def test_pulses_become_litres_and_energy() -> None:
    m = Meters()
    out, _ = m.apply(PULSED, [Reading(T0, "water", "pulses", 100.0)])
    assert [x.metric for x in out] == ["pulses", "total_l"] and out[1].value == 50.0
    out, _ = m.apply(PULSED, [Reading(T0 + 1, "water", "pulses", 104.0)])
    assert usage(out) == [2.0]
    out, _ = m.apply(POWER_PULSED, [Reading(T0, "power", "pulses", 10.0)])
    assert out[1] == Reading(T0, "power", "energy_wh", 20.0)


def test_pulses_without_factor_are_kept_raw() -> None:
    out, _ = Meters().apply(WATER, [Reading(T0, "water", "pulses", 100.0)])
    assert out == [Reading(T0, "water", "pulses", 100.0)]


def test_pulse_glitch_drops_the_raw_count_too() -> None:
    m = Meters()
    m.apply(PULSED, [Reading(T0, "water", "pulses", 1000.0)])
    out, refusals = m.apply(PULSED, [Reading(T0 + 1, "water", "pulses", 999.0)])
    assert out == [] and refusals[0].reason == "total_backwards"


def test_non_meter_readings_pass_through() -> None:
    rs = [Reading(T0, "f", "temperature", 4.0)]
    assert Meters().apply(None, rs) == (rs, [])


def test_state_survives_a_restart_only_when_saved(store: SqliteStore) -> None:
    m = Meters()
    m.restore(())
    m.apply(WATER, [total(100.0, T0)])
    store.write([], IngestState(m.take_dirty()))
    m.apply(WATER, [total(150.0, T0 + 60)])  # never committed
    saved = store.load_state()
    assert saved is not None
    fresh = Meters()
    fresh.restore(saved.meters)
    assert fresh.last_total("water", "total_l") == 100.0
    out, _ = fresh.apply(WATER, [total(150.0, T0 + 60)])
    assert usage(out) == [50.0]


def test_seq_duplicates_and_restart(store: SqliteStore) -> None:
    s = SeqFilter()
    assert not s.is_duplicate("d", 5, T0)
    assert s.is_duplicate("d", 5, T0)
    assert not s.is_duplicate("d", 6, T0 + 1)
    assert s.is_duplicate("d", 5, T0)  # redelivered older message
    assert not s.is_duplicate("d", 0, T0 + 100)  # device restarted: counts from 0, time moved on
    assert not s.is_duplicate("d", 1, T0 + 101)
    assert not s.is_duplicate("other", 1, T0)
    store.write([], IngestState(seqs=s.take_dirty()))
    saved = store.load_state()
    assert saved is not None
    again = SeqFilter()
    again.restore(saved.seqs)
    assert again.is_duplicate("d", 1, T0 + 101)
    assert not again.is_duplicate("d", 2, T0 + 102)
