"""The saving table from generated meter usage written into a real influxd and a real VictoriaMetrics; figures per
child, per school day and per m² checked against figures worked out by hand, and the ranking."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from district.board import SiteState
from tests.browser import chromium, login, shot
from tests.district.helpers import SitePublisher, add_user, logged_in, running_service, service_toml
from tests.influxdb import Influxd, unique_database
from tests.uplink.central import CentralBroker
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import wait_for

SITES = ["sun-kg", "moon-kg"]  # children 100 and 101, floor area 1200.5 and 1201.5 m² (tests/uplink/central.py)
WEEK = "2026-W45"
START = datetime(2026, 11, 2, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
END = START + 7 * 86400


def generated() -> list[str]:
    """sun-kg: 10 × 50 L (the first at the week's very start), 12 × 100 kWh; moon-kg: 30 × 101 L, 601 kWh once.
    Not counted: a usage at the next week's start, a fridge's own energy (no main meter), the week before."""
    ms = lambda t: int(t * 1000)  # noqa: E731
    lines = [f"houqin,site=sun-kg,device=water,kind=water_meter usage_l=50 {ms(START + 3600 * i)}" for i in range(10)]
    lines += [f"houqin,site=sun-kg,device=power,kind=power_meter usage_wh=100000 {ms(START + 7200 * i)}"
              for i in range(12)]
    lines += [f"houqin,site=moon-kg,device=main-water,kind=water_meter usage_l=101 {ms(START + 86400 + 60 * i)}"
              for i in range(30)]
    lines += [f"houqin,site=moon-kg,device=main-power,kind=power_meter usage_wh=601000 {ms(START + 5 * 86400)}",
              f"houqin,site=sun-kg,device=water,kind=water_meter usage_l=999 {ms(END)}",
              f"houqin,site=sun-kg,device=fridge,kind=fridge usage_wh=5000 {ms(START + 100)}",
              f"houqin,site=moon-kg,device=main-water,kind=water_meter usage_l=999 {ms(START - 60)}"]
    return lines



def load(target: str, request: pytest.FixtureRequest, lines: list[str]) -> dict[str, str]:
    """Write ``lines`` into a real influxd or VictoriaMetrics; the service's ``[store]``."""
    if target == "influxd":
        influx: Influxd = request.getfixturevalue("influxd")
        db = unique_database()
        influx.query(f'CREATE DATABASE "{db}"')
        assert influx.write("\n".join(lines), db) == 204
        return {"kind": "influxdb", "url": influx.url, "database": db}
    vm: VictoriaMetrics = request.getfixturevalue("victoriametrics")
    vm.write(lines)
    return {"kind": "victoriametrics", "url": vm.url, "database": "houqin"}


def page_text(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page.text, flags=re.S)))
    return " ".join(text.split())


@pytest.mark.parametrize("target", ["influxd", "victoria-metrics"])
def test_saving_figures_and_ranks(central: CentralBroker, tmp_path: Path, request: pytest.FixtureRequest, target: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = load(target, request, generated())
    toml = service_toml(central, tmp_path / "district-data", store)
    add_user(toml, "ada", "viewer", monkeypatch)
    with running_service(toml) as service:
        client = logged_in(service, "ada")
        r = client.get(f"/api/saving?week={WEEK}")
        assert r.status_code == 200, r.text
        sites = r.json()["sites"]
        assert [s["site"] for s in sites] == ["moon-kg", "sun-kg"]  # the most water per child and day first
        moon, sun = sites
        # By hand: sun-kg 500 L / (100 children × 5 school days) = 1.0; 1,200 kWh / 1,200.5 m², / 100 children.
        assert sun["water_l"] == pytest.approx(500) and sun["school_days"] == 5
        assert sun["water_l_per_child_day"] == pytest.approx(1.0)
        assert sun["electricity_kwh"] == pytest.approx(1200)
        assert sun["kwh_per_m2"] == pytest.approx(1200 / 1200.5) and sun["kwh_per_child"] == pytest.approx(12.0)
        # moon-kg: 3,030 L / (101 × 5) = 6.0; 601 kWh / 1,201.5 m², / 101 children.
        assert moon["water_l_per_child_day"] == pytest.approx(6.0)
        assert moon["kwh_per_m2"] == pytest.approx(601 / 1201.5) and moon["kwh_per_child"] == pytest.approx(601 / 101)
        assert (moon["water_rank"], moon["power_rank"], sun["water_rank"], sun["power_rank"]) == (1, 2, 2, 1)
        page = client.get(f"/saving?week={WEEK}")
        text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page.text,
                                                             flags=re.S)))
        text = " ".join(text.split())
        assert "1 幼儿园2 6.0 0.50 (第 2 名) 5.95" in text
        assert "2 幼儿园1 1.0 1.00 (第 1 名) 12.00" in text
        assert "moon-kg" not in text and "sun-kg" not in text


def at(day: int, hh: int, mm: int) -> int:
    """Milliseconds of W45's day ``day`` (0 = Monday 2 November) at ``hh:mm`` Shanghai time (negative: W44)."""
    return int((START + day * 86400 + hh * 3600 + mm * 60) * 1000)


def week_of_use() -> list[str]:
    """sun-kg (its calendar: Mon-Fri 08:00-17:00, Friday 6 November a holiday): 10 L at 10 past every night hour
    (00-04) of the 7 nights, 200 L at 10:00 Mon-Thu, 100 L on the holiday, 50 L on Saturday, 20 L at Monday 07:50,
    30 L at Monday 08:05; 2 kWh at half past every hour of the week. moon-kg (no calendar sent: Mon-Fri
    07:00-18:00): 3 L in every night hour but Wednesday's 03:00, 1,000 L at noon Mon-Fri, 60 L on Saturday. W44 (the
    term began Monday 26 October): sun-kg 5,000 L, moon-kg 100 L."""
    w = "houqin,site={},device=water,kind=water_meter usage_l={} {}"
    lines = []
    for day in range(7):
        for hh in range(5):
            lines.append(w.format("sun-kg", 10, at(day, hh, 10)))
            if (day, hh) != (2, 3):
                lines.append(w.format("moon-kg", 3, at(day, hh, 20)))
        for hh in range(24):
            lines.append(f"houqin,site=sun-kg,device=power,kind=power_meter usage_wh=2000 {at(day, hh, 30)}")
    lines += [w.format("sun-kg", 200, at(d, 10, 0)) for d in range(4)]
    lines += [w.format("sun-kg", 100, at(4, 10, 0)), w.format("sun-kg", 50, at(5, 10, 0)),
              w.format("sun-kg", 20, at(0, 7, 50)), w.format("sun-kg", 30, at(0, 8, 5))]
    lines += [w.format("moon-kg", 1000, at(d, 12, 0)) for d in range(5)]
    lines += [w.format("moon-kg", 60, at(5, 12, 0)), w.format("sun-kg", 5000, at(-6, 10, 0)),
              w.format("moon-kg", 100, at(-6, 10, 0))]
    return lines


SUN_CALENDAR = {"timezone": "Asia/Shanghai", "holidays": ["2026-11-06"], "makeup_workdays": [], "makeup_hours": None,
                "hours": {**{d: "08:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": "", "sun": ""}}


@pytest.mark.parametrize("target", ["influxd", "victoria-metrics"])
def test_closed_use_night_baseline_leak_last_week_and_term(central: CentralBroker, tmp_path: Path,
                                                           request: pytest.FixtureRequest, target: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store = load(target, request, week_of_use())
    toml = service_toml(central, tmp_path / "district-data", store)
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[term]\nstart = 2026-10-26\n', encoding="utf-8")
    add_user(toml, "ada", "viewer", monkeypatch)
    sun = SitePublisher(central, "sun-kg")
    sun.status(calendar=SUN_CALENDAR)  # retained: the service reads it when it starts
    sun.close()
    with running_service(toml) as service:
        wait_for(lambda: (service.board.snapshot().get("sun-kg") or SiteState()).calendar is not None,
                 "sun-kg's calendar")
        client = logged_in(service, "ada")
        r = client.get(f"/api/saving?week={WEEK}")
        assert r.status_code == 200, r.text
        moon, sun_row = r.json()["sites"]
        # By hand, sun-kg: 350 L at night + 800 L Mon-Thu + 100 (holiday) + 50 (Saturday) + 20 + 30 = 1,350 L over
        # 4 school days; closed: 350 + 100 + 50 + 20 = 520 L. Power: 168 h × 2 kWh = 336 kWh, open 4 days × 9 h.
        assert sun_row["water_l"] == pytest.approx(1350) and sun_row["school_days"] == 4
        assert sun_row["water_l_per_child_day"] == pytest.approx(1350 / 400)
        assert sun_row["water_closed_l"] == pytest.approx(520)
        assert sun_row["kwh_closed"] == pytest.approx((168 - 36) * 2)
        assert sun_row["night_water_l_per_h"] == pytest.approx(10) and sun_row["night_kw"] == pytest.approx(2)
        assert sun_row["leak"] is True and sun_row["calendar_from_site"] is True
        # moon-kg: 34 × 3 L at night + 5 × 1,000 L + 60 L = 5,162 L over 5 school days (the default calendar);
        # closed 102 + 60 = 162 L; Wednesday's 03:00 hour used nothing: baseline 0, no leak. No power meter.
        assert moon["water_l"] == pytest.approx(5162) and moon["school_days"] == 5
        assert moon["water_closed_l"] == pytest.approx(162) and moon["night_water_l_per_h"] == 0
        assert moon["leak"] is False and moon["calendar_from_site"] is False
        assert moon["night_kw"] is None and moon["kwh_closed"] is None
        # Ranks: this week moon-kg 10.2 L before sun-kg 3.4; last week sun-kg 5,000 / (100 × 5) = 10 before moon-kg
        # 100 / (101 × 5); the term (W44 and W45): sun-kg 6,350 / (100 × 9) = 7.06 before moon-kg 5,262 / (101 × 10).
        assert (moon["water_rank"], sun_row["water_rank"]) == (1, 2)
        assert (moon["last_week_rank"], sun_row["last_week_rank"]) == (2, 1)
        assert sun_row["term_school_days"] == 9 and moon["term_school_days"] == 10
        assert sun_row["term_water_l_per_child_day"] == pytest.approx(6350 / 900)
        assert moon["term_water_l_per_child_day"] == pytest.approx(5262 / 1010)
        assert (sun_row["term_water_rank"], moon["term_water_rank"]) == (1, 2)
        assert sun_row["term_kwh_per_m2"] == pytest.approx(336 / 1200.5) and sun_row["term_power_rank"] == 1
        text = page_text(client, f"/saving?week={WEEK}")
        assert ("2 幼儿园1 3.4 0.28 (第 1 名) 3.36 520 L · 264.0 kWh 10.0 L/h · 2.00 kW 每个夜间小时都有用水：疑似漏水 "
                "第 1 名 7.1 L · 第 1 名 · 0.28 kWh/m² · 第 1 名 (9 个上学日)") in text
        assert "1 幼儿园2 10.2 — — 162 L · — (按默认开放时间) 0.0 L/h · — 第 2 名 5.2 L · 第 2 名 (10 个上学日)" in text
        assert "本学期自 2026-10-26 起" in text
        assert "moon-kg" not in text and "sun-kg" not in text
        if target == "victoria-metrics":  # the phone: both tables at 360 px, no machine words
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN")
                login(page, service.url, "ada")
                for path in (f"/saving?week={WEEK}", f"/cold?week={WEEK}"):
                    page.goto(service.url + path)
                    assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
                    shown = page.inner_text("main")
                    for machine in ("sun-kg", "moon-kg", "water_meter", "usage_l", "None", "calendar"):
                        assert machine not in shown, (path, machine)
                shot(page, "district-cold-360")
                page.goto(service.url + f"/saving?week={WEEK}")
                shot(page, "district-saving-360")
