"""The saving table from generated meter usage written into a real influxd and a real VictoriaMetrics; figures per
child, per school day and per m² checked against figures worked out by hand, and the ranking."""

from __future__ import annotations

import html
import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.district.helpers import add_user, logged_in, running_service, service_toml
from tests.influxdb import Influxd, unique_database
from tests.uplink.central import CentralBroker
from tests.victoriametrics import VictoriaMetrics

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


def post_lines(url: str, lines: list[str]) -> None:
    req = urllib.request.Request(url, data="\n".join(lines).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 204


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralBroker]:
    c = CentralBroker(tmp_path, SITES)
    c.start()
    yield c
    c.stop()


@pytest.mark.parametrize("target", ["influxd", "victoria-metrics"])
def test_saving_figures_and_ranks(central: CentralBroker, tmp_path: Path, request: pytest.FixtureRequest, target: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if target == "influxd":
        influx: Influxd = request.getfixturevalue("influxd")
        db = unique_database()
        influx.query(f'CREATE DATABASE "{db}"')
        post_lines(f"{influx.url}/write?db={db}&precision=ms", generated())
        store = {"kind": "influxdb", "url": influx.url, "database": db}
    else:
        vm: VictoriaMetrics = request.getfixturevalue("victoriametrics")
        post_lines(f"{vm.url}/write?db=houqin&precision=ms", generated())
        with urllib.request.urlopen(f"{vm.url}/internal/force_flush", timeout=10):
            pass
        store = {"kind": "victoriametrics", "url": vm.url, "database": "houqin"}
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
