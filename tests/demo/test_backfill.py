"""The demo's simulated history (``demo.backfill``), its gate cards, and the simulated lock relay."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from demo.backfill import STEP_S, backfill, leak_window
from demo.command import CONTRACTOR_HOURS, demo_config_text, register_demo_cards
from demo.sim.base import EventObs, StateObs
from demo.simulator import SimulatedSite
from gateway.app import build_store
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.config import Config, load_config
from gateway.eventsdb import EVENTS_DB_NAME, EventsDB
from gateway.gate.card_rules import decide
from gateway.gate.cards import CardRegistry
from gateway.store.base import TimeSeriesStore

TZ = ZoneInfo("Asia/Shanghai")
#: Monday 16 Nov 2026, 06:00 in Shanghai: the last full week is 2026-W46 (Mon 9 - Sun 15 Nov).
END = datetime(2026, 11, 16, 6, 0, tzinfo=TZ).timestamp()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Path, Config, TimeSeriesStore, EventsDB]]:
    path = tmp_path / "houqin.toml"
    path.write_text(demo_config_text(tmp_path / "data", 18831, 18081), encoding="utf-8")
    cfg = load_config(path)
    cfg.storage.path.mkdir(parents=True)
    db = EventsDB(cfg.storage.path / EVENTS_DB_NAME)
    store = build_store(cfg)
    try:
        yield path, cfg, store, db
    finally:
        store.close()
        db.close()


def weekly_rows(capsys: pytest.CaptureFixture[str], config: Path, week: str) -> list[dict[str, str]]:
    capsys.readouterr()
    assert main(["report", "weekly", "--week", week, "--format", "csv", "--lang", "en", "--config", str(config)]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))


def test_history_fills_whole_weeks_with_usage_and_a_leak_the_report_finds(
        demo: tuple[Path, Config, TimeSeriesStore, EventsDB], capsys: pytest.CaptureFixture[str]) -> None:
    path, cfg, store, db = demo
    leak = leak_window(END, cfg.site.timezone)
    assert datetime.fromtimestamp(leak[0], TZ) == datetime(2026, 11, 10, 21, 0, tzinfo=TZ)
    result = backfill(cfg, store, db, days=5, end=END, leak=leak)
    # 5 days back is Wednesday 11 Nov: history starts that week's Monday, so W46 is whole
    assert datetime.fromtimestamp(result.start, TZ) == datetime(2026, 11, 9, tzinfo=TZ)
    assert result.leak == leak
    rows = [r for r in weekly_rows(capsys, path, "2026-W46") if r["day"] != "total"]
    water = {r["day"]: r for r in rows if r["device"] == "water-main"}
    power = {r["day"]: r for r in rows if r["device"] == "power-main"}
    assert len(water) == len(power) == 7
    for day, r in water.items():
        school = r["school_open"] == "1"
        assert float(r["use"]) > (5.0 if school else 0.3), (day, r)
        assert float(power[day]["use"]) > (50.0 if school else 9.0), (day, power[day])
    # no leak on the nights before Tuesday 21:00; 0.4 L/min (24 L/h) every night after
    assert float(water["2026-11-09"]["night_baseline"]) < 1.0
    assert float(water["2026-11-10"]["night_baseline"]) < 1.0
    for day in ("2026-11-11", "2026-11-12", "2026-11-15"):
        assert float(water[day]["night_baseline"]) == pytest.approx(24.0, abs=1.0)
    # the live gateway goes on from the meter state the history leaves behind
    totals = {s.device: s for d in ("water-main", "power-main") for s in store.series(d)
              if s.metric in ("total_l", "energy_wh")}
    saved = store.load_state()  # kept with the readings (gateway.store.ingest_state)
    assert saved is not None
    state = {d: t for d, _m, t, _ts in saved.meters}
    assert state == {d: s.last_value for d, s in totals.items()}
    assert END - STEP_S <= totals["water-main"].last_ts < END


def test_history_run_again_fills_only_the_gap(demo: tuple[Path, Config, TimeSeriesStore, EventsDB]) -> None:
    _path, cfg, store, db = demo
    first = backfill(cfg, store, db, days=1, end=END)
    before = {s.metric: s for s in store.series("water-main")}
    again = backfill(cfg, store, db, days=1, end=END + 3600)
    assert again.start == pytest.approx(before["total_l"].last_ts + STEP_S)
    assert 50 <= again.readings / 13 <= 61  # an hour: thirteen readings a minute (three of them UV lamp plugs)
    usage = store.query("water-main", "usage_l", first.end - 600, again.end)
    assert usage and all(r.value >= 0 for r in usage)
    after = {s.metric: s for s in store.series("water-main")}
    assert after["total_l"].last_value >= before["total_l"].last_value
    assert backfill(cfg, store, db, days=1, end=END + 3600).readings == 0


def test_demo_cards_match_the_simulated_reader(tmp_path: Path) -> None:
    db = EventsDB(tmp_path / EVENTS_DB_NAME)
    try:
        clock = ManualClock(END)
        site = SimulatedSite(start=END, seed=1)
        reg = CardRegistry(db, clock)
        assert register_demo_cards(reg, site.gate.cards) == len(site.gate.cards) == 24
        assert register_demo_cards(reg, site.gate.cards) == 0  # run again on the same DIR
        cards = [reg.by_uid(u) for u in site.gate.cards]
        assert all(c is not None for c in cards)
        kinds = [(c.kind, c.rule.disabled, c.rule.hours) for c in cards if c is not None]
        assert kinds[0][0] == "guard"
        assert kinds[1] == ("contractor", False, CONTRACTOR_HOURS)
        assert kinds[2][1] is True
        weekday_evening = datetime(2026, 11, 20, 19, 0, tzinfo=TZ).timestamp()
        assert cards[1] is not None and decide(cards[1].rule, weekday_evening, TZ) == (False, "out_of_hours")
        assert cards[2] is not None and decide(cards[2].rule, weekday_evening, TZ) == (False, "disabled")
        assert cards[5] is not None and decide(cards[5].rule, weekday_evening, TZ) == (True, "accepted")
    finally:
        db.close()


def test_simulated_gate_with_a_relay_opens_only_when_pulsed() -> None:
    rush = datetime(2026, 11, 20, 7, 30, tzinfo=TZ).timestamp()
    site = SimulatedSite(start=rush, seed=1)
    site.use_lock_relay()
    cards = 0
    for _ in range(240):  # twenty minutes of the morning rush, tick by tick
        out = site.advance(5.0)
        reads = [o for o in out if isinstance(o, EventObs) and o.type == "card"]
        cards += len(reads)
        assert all("accepted" not in o.data for o in reads)  # the reader reports; the gateway decides
        others = any(isinstance(o, EventObs) and o.type in ("button", "release") for o in out)
        if reads and not others:
            assert not any(isinstance(o, StateObs) and o.metrics.get("contact") == "open" for o in out)
    assert cards >= 5
    night = SimulatedSite(start=datetime(2026, 11, 20, 2, 0, tzinfo=TZ).timestamp(), seed=1)
    night.use_lock_relay()
    night.advance(60.0)
    assert not night.gate.is_open
    assert night.command("gate", {"relay": "pulse", "seconds": 3})
    assert not night.command("gate", {"relay": "toggle"}) and not night.command("water-main", {"relay": "pulse"})
    out = night.advance(5.0)
    assert [o.metrics for o in out if isinstance(o, StateObs) and o.device == "gate"] == [{"contact": "open"}]
    later = night.advance(30.0)
    assert {"contact": "closed"} in [o.metrics for o in later if isinstance(o, StateObs) and o.device == "gate"]


def test_banner_hint_for_a_closed_school() -> None:
    from demo.command import _school_hours

    assert _school_hours(datetime(2026, 11, 20, 9, 0, tzinfo=TZ).timestamp(), "Asia/Shanghai")  # Friday
    assert not _school_hours(datetime(2026, 11, 20, 22, 0, tzinfo=TZ).timestamp(), "Asia/Shanghai")
    assert not _school_hours(datetime(2026, 11, 21, 9, 0, tzinfo=TZ).timestamp(), "Asia/Shanghai")  # Saturday


def test_live_fridges_start_where_the_history_ends(demo: tuple[Path, Config, TimeSeriesStore, EventsDB]) -> None:
    import time

    from demo.command import _continue_temperatures
    from gateway.model import Reading

    _path, _cfg, store, _db = demo
    now = time.time()
    store.write([Reading(now - 60, "kitchen-fridge-1", "temperature", 7.7),
                 Reading(now - 7200, "kitchen-freezer", "temperature", -3.0)])  # too old: not carried over
    site = SimulatedSite(start=now, seed=1)
    freezer_before = site.freezer.temperature
    _continue_temperatures(SimpleNamespace(store=store), site)
    assert site.fridges["kitchen-fridge-1"].temperature == 7.7
    assert site.freezer.temperature == freezer_before
