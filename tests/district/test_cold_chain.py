"""The cold-chain table from generated temperatures written into a real influxd and a real VictoriaMetrics, as the
sites' uplinks write them; its figures checked against figures worked out by hand."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.district.helpers import SitePublisher, add_user, logged_in, running_service, service_toml
from tests.influxdb import Influxd, unique_database
from tests.uplink.central import CentralBroker
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import wait_for

SITES = ["sun-kg", "moon-kg"]
WEEK = "2026-W45"  # Monday 2 November 2026
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def generated() -> list[str]:
    """sun-kg's fridge: 60 readings 10 min apart at 4 °C, but 9 °C at readings 10-12 and 10 °C at reading 30;
    moon-kg's freezer: 60 readings at -20 °C, with one at -15 °C (reading 50); moon-kg's two fridges in range;
    a water meter that is no cold appliance; a reading of the week before (not counted)."""
    lines = []
    for i in range(60):
        t = int((T0 + 600 * i) * 1000)
        fridge = 9.0 if i in (10, 11, 12) else 10.0 if i == 30 else 4.0
        lines.append(f"houqin,site=sun-kg,device=kitchen-fridge,kind=fridge temperature={fridge} {t}")
        lines.append(f"houqin,site=moon-kg,device=freezer-1,kind=freezer temperature={-15.0 if i == 50 else -20.0} {t}")
        lines.append(f"houqin,site=moon-kg,device=fridge-a,kind=fridge temperature=3.5 {t}")
        lines.append(f"houqin,site=moon-kg,device=fridge-b,kind=fridge temperature=5.0 {t}")
        lines.append(f"houqin,site=sun-kg,device=water,kind=water_meter total_l={100.0 + i} {t}")
    before = int((T0 - 8 * 86400) * 1000)
    lines.append(f"houqin,site=sun-kg,device=kitchen-fridge,kind=fridge temperature=20.0 {before}")
    return lines



def send_alerts(central: CentralBroker) -> int:
    """The sites' alert transitions of the week (and one of the week before, one not on a cold appliance); returns
    how many alerts the district should log."""
    sun, moon = SitePublisher(central, "sun-kg"), SitePublisher(central, "moon-kg")
    try:
        fridge = {"device_kind": "fridge", "escalate_after": 600.0}
        sun.history(1, "kitchen-fridge", T0 + 6000, [("opened", 0), ("acknowledged", 300), ("cleared", 1200)], **fridge)
        sun.history(2, "kitchen-fridge", T0 + 18000, [("opened", 0), ("escalated", 600), ("acknowledged", 900),
                                                      ("cleared", 1000)], **fridge)
        sun.history(2, "kitchen-fridge", T0 + 18000, [("escalated", 600)], **fridge)  # heard twice: once
        sun.history(3, "kitchen-fridge", T0 + 20000, [("opened", 0), ("cleared", 1200)], **fridge)
        sun.history(4, "kitchen-fridge", T0 + 30000, [("opened", 0), ("cleared", 300)], **fridge)
        sun.history(5, "kitchen-fridge", T0 - 7 * 86400, [("opened", 0), ("cleared", 3600)], **fridge)
        moon.history(1, "freezer-1", T0 + 7200, [("opened", 0), ("acknowledged", 7200)], device_kind="freezer")
        moon.history(2, "water", T0 + 7200, [("opened", 0)], device_kind="water_meter", escalate_after=600.0)
        moon.history(3, "fridge-a", T0 + 9000, [("opened", 0), ("acknowledged", 900)], escalate_after=600.0)
    finally:
        sun.close()
        moon.close()
    return 8


@pytest.mark.parametrize("target", ["influxd", "victoria-metrics"])
def test_cold_chain_figures(central: CentralBroker, tmp_path: Path, request: pytest.FixtureRequest, target: str,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    if target == "influxd":
        influx: Influxd = request.getfixturevalue("influxd")
        db = unique_database()
        influx.query(f'CREATE DATABASE "{db}"')
        assert influx.write("\n".join(generated()), db) == 204
        store = {"kind": "influxdb", "url": influx.url, "database": db}
    else:
        vm: VictoriaMetrics = request.getfixturevalue("victoriametrics")
        vm.write(generated())
        store = {"kind": "victoriametrics", "url": vm.url, "database": "houqin"}
    toml = service_toml(central, tmp_path / "district-data", store)
    add_user(toml, "ada", "viewer", monkeypatch)
    with running_service(toml) as service:
        client = logged_in(service, "ada")
        assert service.link.wait_connected(10)
        sent = send_alerts(central)
        wait_for(lambda: len(service.alerts.opened(T0 - 30 * 86400, T0 + 7 * 86400)) == sent,
                 f"the alerts logged, {service.alerts.opened(T0 - 30 * 86400, T0 + 7 * 86400)}")
        r = client.get(f"/api/cold?week={WEEK}")
        assert r.status_code == 200, r.text
        rows = {(a["site"], a["device"]): a for a in r.json()["appliances"]}
        # By hand: sun-kg's fridge had 4 alerts (escalation time 10 min): acknowledged after 5 min (in time),
        # escalated (late), never acknowledged and cleared after 20 min (late), cleared unacknowledged after 5 min
        # (in time). moon-kg's freezer: acknowledged after 2 h, but its chain never escalates (in time); fridge-a,
        # from a site too old to send the device's kind (known by its series): acknowledged after 15 min (late).
        assert [(rows[k]["alerts"], rows[k]["late"]) for k in rows] == [(4, 2), (1, 1), (0, 0), (1, 0)]
        assert r.json()["sites"] == [{"site": "sun-kg", "site_name": "幼儿园1", "alerts": 4, "late": 2},
                                     {"site": "moon-kg", "site_name": "幼儿园2", "alerts": 2, "late": 1}]
        assert list(rows) == [("sun-kg", "kitchen-fridge"), ("moon-kg", "fridge-a"), ("moon-kg", "fridge-b"),
                              ("moon-kg", "freezer-1")]
        # By hand: each reading stands until the next (10 min), the last one 15 min: 59 × 10 + 15 = 605 min.
        # sun-kg's fridge is out from reading 10 to 13 (30 min) and from 30 to 31 (10 min): 40 of 605 min.
        fridge = rows[("sun-kg", "kitchen-fridge")]
        assert fridge["minutes_covered"] == pytest.approx(605)
        assert fridge["minutes_out"] == pytest.approx(40)
        assert fridge["in_range"] == pytest.approx(565 / 605)
        assert fridge["excursions"] == [30.0, 10.0]
        assert (fridge["low"], fridge["high"]) == (0.0, 8.0)
        freezer = rows[("moon-kg", "freezer-1")]
        assert freezer["in_range"] == pytest.approx(595 / 605) and freezer["excursions"] == [10.0]
        assert (freezer["low"], freezer["high"]) == (None, -18.0)
        assert rows[("moon-kg", "fridge-a")]["in_range"] == 1.0 and rows[("moon-kg", "fridge-a")]["excursions"] == []
        assert [rows[("moon-kg", d)]["number"] for d in ("fridge-a", "fridge-b")] == [1, 2]
        page = client.get(f"/cold?week={WEEK}")
        assert page.status_code == 200
        text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page.text,
                                                             flags=re.S)))
        text = " ".join(text.split())
        assert "幼儿园1 冰箱 0.0 – 8.0 °C 93.4% 2 次: 30.0 分钟, 10.0 分钟 4 次告警, 2 次未按时确认" in text
        assert "幼儿园2 冰箱 1 0.0 – 8.0 °C 100.0% 无 1 次告警, 1 次未按时确认" in text
        assert "未按时确认的告警" in text and "幼儿园2 2 次告警, 1 次未按时确认" in text
        assert "幼儿园2 冷冻柜 … – -18.0 °C 98.3% 1 次: 10.0 分钟" in text
        assert "幼儿园2 冰箱 1" in text and "幼儿园2 冰箱 2" in text
        for machine in ("kitchen-fridge", "freezer-1", "sun-kg", "fridge-a"):
            assert machine not in text
