"""deploy/grafana/: the provisioned data sources, and every panel's query of the district and site dashboards run
against a real influxd and a real VictoriaMetrics filled by the uplink's own writer (measurement ``houqin``, tags
``site``, ``device``, ``kind``), with Grafana's template variables substituted as Grafana does."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from gateway.clock import SystemClock
from gateway.model import Reading
from gateway.store.influx import InfluxStore
from gateway.store.influx_settings import InfluxSettings
from tests.influxdb import Influxd, unique_database
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import wait_for

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
SH = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2025, 3, 3, tzinfo=SH).timestamp()  # a Monday, midnight in Shanghai
END = DAY0 + 3 * 86400
#: What Grafana makes of ``$__interval`` for three days on a panel about 430 points wide.
INTERVAL_S = 600
DS_UID = {"influxdb": "houqin-influxdb", "victoriametrics": "houqin-victoriametrics"}
DS_TYPE = {"influxdb": "influxdb", "victoriametrics": "prometheus"}

KINDS = {"sun-kg": {"kitchen-fridge": "fridge", "hall": "thermometer", "water": "water_meter", "power": "power_meter",
                    "kitchen-plug": "plug"},
         "moon-kg": {"freezer-1": "freezer", "main-water": "water_meter", "main-power": "power_meter"}}


def generated() -> dict[str, list[Reading]]:
    """Three days of two sites. Water and power at every full hour, midnight included (it belongs to its day)."""
    out: dict[str, list[Reading]] = {"sun-kg": [], "moon-kg": []}
    for i in range(144):  # day 0, every 10 min
        t = DAY0 + 600 * i
        out["sun-kg"] += [Reading(t, "kitchen-fridge", "temperature", 4.0 + (i % 5) * 0.5),
                          Reading(t, "hall", "temperature", 22.0)]
        out["moon-kg"].append(Reading(t, "freezer-1", "temperature", -20.0 - (i % 3)))
    for d in range(3):
        for h in range(24):
            t = DAY0 + d * 86400 + h * 3600
            out["sun-kg"].append(Reading(t, "water", "usage_l", 10.0 * (d + 1)))
            if h % 2 == 0:
                out["sun-kg"].append(Reading(t, "power", "usage_wh", 5000.0))
                out["sun-kg"].append(Reading(t + 60, "kitchen-plug", "usage_wh", 100.0))  # not a main meter
    out["moon-kg"] += [Reading(DAY0 + 3600 * h, "main-water", "usage_l", 100.0) for h in (1, 2, 3)]
    out["moon-kg"].append(Reading(DAY0 + 2 * 86400 + 7200, "main-power", "usage_wh", 42000.0))
    return out


def day(t: float) -> date:
    return datetime.fromtimestamp(t, SH).date()


D0, D1, D2 = (day(DAY0 + 86400 * d) for d in range(3))


def write_through_uplink(settings: InfluxSettings, tmp_path: Path) -> dict[str, list[Reading]]:
    """Each site's readings through the uplink's central-store writer, until its outbox is empty."""
    data = generated()
    for site, readings in data.items():
        store = InfluxStore(settings, site=site, outbox_path=tmp_path / f"{site}-uplink-store.db", kinds=KINDS[site],
                            clock=SystemClock(), target="the central store")
        try:
            store.write(readings)
            wait_for(lambda s=store: s.status().depth == 0, f"{site}'s points sent")
        finally:
            store.close()
    return data


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((GRAFANA / "dashboards" / name).read_text(encoding="utf-8"))
    return doc


def grafana_regex(values: list[str], escape: Callable[[str], str]) -> str:
    return "(" + "|".join(escape(v) for v in values) + ")"


def interpolate(text: str, site: list[str], multi: bool, store: str) -> str:
    """Grafana's template variables and macros for a 3-day range ``[DAY0, END]``: ``$timeFilter`` (InfluxQL),
    ``$__interval``, ``$__range`` (Prometheus) and ``$site`` (one value as is; several as a regex alternation, each
    escaped, as Grafana formats multi-value variables for InfluxDB and Prometheus)."""
    macros = {"timeFilter": f"time >= {int(DAY0 * 1000)}ms and time <= {int(END * 1000)}ms",
              "__interval": f"{INTERVAL_S // 60}m", "__range": f"{int(END - DAY0)}s"}
    if multi:
        if store == "influxdb":
            macros["site"] = grafana_regex(site, lambda v: re.sub(r"([\\^$.|?*+()\[\]{}/-])", r"\\\1", v))
        else:  # Prometheus: regex-escaped, then escaped again inside the label's string
            macros["site"] = grafana_regex(site, lambda v: re.sub(r"([\\^$.|?*+()\[\]{}-])", r"\\\\\1", v))
    else:
        macros["site"] = site[0]
    out = re.sub(r"\$(\w+)", lambda m: macros[m.group(1)], text)
    assert not re.search(r"\$\w|\$\{", out), out  # only a regex's end anchor may remain
    return out


@dataclass
class Servers:
    store: str
    influx: Influxd | None = None
    vm: VictoriaMetrics | None = None
    db: str = "houqin"

    def influxql(self, q: str) -> list[dict[str, Any]]:
        """The statements' series, as Grafana's InfluxDB data source gets them (``/query``, ``epoch=ms``)."""
        assert self.influx is not None
        body = urllib.parse.urlencode({"q": q, "db": self.db, "epoch": "ms"}).encode()
        with urllib.request.urlopen(f"{self.influx.url}/query", data=body, timeout=10) as r:
            results = json.loads(r.read())["results"]
        assert all("error" not in res for res in results), results
        return [s for res in results for s in res.get("series", [])]

    def prom(self, path: str, **params: str) -> Any:
        assert self.vm is not None
        body = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"{self.vm.url}{path}", data=body, timeout=10) as r:
            doc = json.loads(r.read())
        assert doc["status"] == "success", doc
        return doc["data"]

    def variable(self, var: dict[str, Any]) -> list[str]:
        """The values of a query variable, as Grafana asks for them."""
        if self.store == "influxdb":
            return [row[1] for s in self.influxql(var["query"]) for row in s["values"]]
        m = re.fullmatch(r"label_values\((.*), (\w+)\)", var["query"]["query"])
        assert m is not None
        values: list[str] = self.prom(f"/api/v1/label/{m.group(2)}/values", **{"match[]": m.group(1)},
                                      start=str(DAY0), end=str(END))
        return values

    def run(self, panel: dict[str, Any], target: dict[str, Any], site: list[str], multi: bool) -> dict[str, list[
            tuple[float, float]]]:
        """One target's series, keyed by their legend (Grafana's alias or legend format), points (time s, value)."""
        if self.store == "influxdb":
            out: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for s in self.influxql(interpolate(target["query"], site, multi, self.store)):
                tags = s.get("tags", {})
                alias = target.get("alias") or " ".join(tags.values())
                key = re.sub(r"\$tag_(\w+)", lambda m, t=tags: t[m.group(1)], alias)
                out[key] += [(row[0] / 1000, row[1]) for row in s["values"] if row[1] is not None]
            return dict(out)
        expr = interpolate(target["expr"], site, multi, self.store)
        if target["instant"]:
            data = self.prom("/api/v1/query", query=expr, time=str(END))
            rows = [(r["metric"], [r["value"]]) for r in data["result"]]
        else:
            step = 86400 if target.get("interval") == "1d" or panel.get("interval") == "1d" else INTERVAL_S
            start = DAY0 // step * step  # Grafana aligns a range query's start to its step
            data = self.prom("/api/v1/query_range", query=expr, start=str(start), end=str(END), step=str(step))
            rows = [(r["metric"], r["values"]) for r in data["result"]]
        result = {}
        for labels, values in rows:
            key = re.sub(r"\{\{(\w+)\}\}", lambda m, lb=labels: lb[m.group(1)], target["legendFormat"])
            result[key] = [(float(t), float(v)) for t, v in values]
        return result


@pytest.fixture(params=["influxdb", "victoriametrics"])
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Servers:
    if request.param == "influxdb":
        influx: Influxd = request.getfixturevalue("influxd")
        db = unique_database()
        influx.query(f'CREATE DATABASE "{db}"')
        write_through_uplink(InfluxSettings(url=influx.url, api="v1", database=db), tmp_path)
        return Servers("influxdb", influx=influx, db=db)
    vm: VictoriaMetrics = request.getfixturevalue("victoriametrics")
    write_through_uplink(InfluxSettings(url=vm.url, api="v1", database="houqin"), tmp_path)
    vm.flush()
    return Servers("victoriametrics", vm=vm)


def test_provisioned_data_sources_and_dashboards_name_each_other() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "houqin.yaml").read_text(encoding="utf-8"))
    by_uid = {d["uid"]: d for d in sources["datasources"]}
    assert by_uid["houqin-influxdb"]["type"] == "influxdb"
    assert by_uid["houqin-influxdb"]["jsonData"] == {"version": "InfluxQL", "dbName": "houqin", "httpMode": "POST",
                                                     "timeInterval": "10s"}
    assert by_uid["houqin-victoriametrics"]["type"] == "prometheus"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "houqin.yaml").read_text(encoding="utf-8"))
    assert providers["providers"][0]["type"] == "file"
    files = sorted(p.name for p in (GRAFANA / "dashboards").glob("*.json"))
    assert files == ["district-influxdb.json", "district-victoriametrics.json", "site-influxdb.json",
                     "site-victoriametrics.json"]
    uids = set()
    for name in files:
        doc = load(name)
        uids.add(doc["uid"])
        store = name.removesuffix(".json").split("-")[1]
        for p in doc["panels"]:
            assert p["datasource"] == {"type": DS_TYPE[store], "uid": DS_UID[store]}, (name, p["title"])
            assert p["targets"] and all(t["datasource"] == p["datasource"] for t in p["targets"])
            assert re.search(r"[\u4e00-\u9fff]", p["title"]), "titles in Chinese first"
    assert len(uids) == 4


def by_day(points: list[tuple[float, float]]) -> dict[date, float]:
    return {day(t): round(v, 6) for t, v in points if v}


def test_district_dashboard_panels_return_the_data(servers: Servers) -> None:
    doc = load(f"district-{servers.store}.json")
    sites = servers.variable(doc["templating"]["list"][0])
    assert sorted(sites) == ["moon-kg", "sun-kg"]
    panels = {p["id"]: p for p in doc["panels"]}
    data = generated()
    last = {s: max(r.ts for r in rs) for s, rs in data.items()}
    # 1: each site's last reading (InfluxDB: the newest time of each metric; VictoriaMetrics: the age in seconds)
    result = servers.run(panels[1], panels[1]["targets"][0], sites, True)
    if servers.store == "influxdb":
        newest: dict[str, float] = {}
        for key, points in result.items():
            newest[key] = max([newest.get(key, 0.0), *(t for t, _ in points)])
        assert newest == last
    else:
        assert {k: v[0][1] for k, v in result.items()} == {s: END - t for s, t in last.items()}
    # 2: the cold chain's temperatures per site and appliance, every reading (the hall's thermometer is not one)
    temps = servers.run(panels[2], panels[2]["targets"][0], sites, True)
    assert set(temps) == {"sun-kg kitchen-fridge", "moon-kg freezer-1"}
    for key, device in (("sun-kg kitchen-fridge", ("sun-kg", "kitchen-fridge")),
                        ("moon-kg freezer-1", ("moon-kg", "freezer-1"))):
        expected = [(r.ts, r.value) for r in data[device[0]] if r.device == device[1]]
        assert temps[key] == expected
    # one site chosen: only its series
    assert set(servers.run(panels[2], panels[2]["targets"][0], ["moon-kg"], True)) == {"moon-kg freezer-1"}
    # 3: water per site and day (Shanghai days; the reading at midnight belongs to the day it begins)
    water = {k: by_day(v) for k, v in servers.run(panels[3], panels[3]["targets"][0], sites, True).items()}
    assert water == {"sun-kg": {D0: 240.0, D1: 480.0, D2: 720.0}, "moon-kg": {D0: 300.0}}
    # 4: electricity per site and day in kWh, main meters only (not the kitchen's plug)
    power = {k: by_day(v) for k, v in servers.run(panels[4], panels[4]["targets"][0], sites, True).items()}
    assert power == {"sun-kg": {D0: 60.0, D1: 60.0, D2: 60.0}, "moon-kg": {D2: 42.0}}


def test_site_dashboard_panels_return_the_data(servers: Servers) -> None:
    doc = load(f"site-{servers.store}.json")
    assert doc["templating"]["list"][0]["multi"] is False
    assert "sun-kg" in servers.variable(doc["templating"]["list"][0])
    panels = {p["id"]: p for p in doc["panels"]}
    readings = generated()["sun-kg"]
    last: dict[str, float] = {}
    for r in readings:
        last[r.device] = max(last.get(r.device, 0.0), r.ts)
    result = servers.run(panels[1], panels[1]["targets"][0], ["sun-kg"], False)
    if servers.store == "influxdb":
        newest: dict[str, float] = {}
        for key, points in result.items():
            newest[key] = max([newest.get(key, 0.0), *(t for t, _ in points)])
        assert newest == last
    else:
        assert {k: v[0][1] for k, v in result.items()} == {d: END - t for d, t in last.items()}
    temps = servers.run(panels[2], panels[2]["targets"][0], ["sun-kg"], False)
    assert temps == {"kitchen-fridge": [(r.ts, r.value) for r in readings if r.device == "kitchen-fridge"]}
    water = {k: by_day(v) for k, v in servers.run(panels[3], panels[3]["targets"][0], ["sun-kg"], False).items()}
    assert water == {"water": {D0: 240.0, D1: 480.0, D2: 720.0}}
    power = {k: by_day(v) for k, v in servers.run(panels[4], panels[4]["targets"][0], ["sun-kg"], False).items()}
    assert power == {"power": {D0: 60.0, D1: 60.0, D2: 60.0}, "kitchen-plug": {D0: 1.2, D1: 1.2, D2: 1.2}}
