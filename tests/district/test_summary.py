"""The weekly district summary over a real central Mosquitto, a real VictoriaMetrics and a real WeCom-shaped webhook
receiver, with the injected clock: sent once at ``[summary] day``/``at``, naming the sites needing attention and why
in words (unacknowledged critical alerts, offline, the cold chain, water per child) from the service's own tables."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from district.service import DistrictService
from gateway.alerts.model import Alert
from gateway.cli import main
from gateway.clock import ManualClock
from gateway.district_settings import load_district
from gateway.eventsdb import EventsDB
from gateway.uplink import messages
from tests.dashboard.helpers import cheap_hasher
from tests.district.helpers import SitePublisher, service_toml
from tests.notify.receivers import WebhookServer
from tests.uplink.central import CentralBroker
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import wait_for

SITES = ["sun-kg", "moon-kg", "star-kg", "sky-kg"]  # 幼儿园1..4, children 100..103 (tests/uplink/central.py)
SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 2, tzinfo=SH).timestamp()  # 2026-W45, Monday
SATURDAY = datetime(2026, 11, 7, 10, 0, tzinfo=SH).timestamp()
MONDAY = datetime(2026, 11, 9, tzinfo=SH).timestamp()


def generated() -> list[str]:
    """W45: sun-kg's fridge always in range, moon-kg's out for 120 of 605 minutes; water per child and school day:
    moon-kg 6.0 L, sky-kg 1.9 L, sun-kg 1.0 L."""
    ms = lambda t: int(t * 1000)  # noqa: E731
    lines = [f"houqin,site=sun-kg,device=kitchen-fridge,kind=fridge temperature=4 {ms(START + 600 * i)}"
             for i in range(60)]
    lines += [f"houqin,site=moon-kg,device=fridge-a,kind=fridge temperature={12 if 10 <= i < 22 else 4} "
              f"{ms(START + 600 * i)}" for i in range(60)]
    lines += [f"houqin,site=sun-kg,device=water,kind=water_meter usage_l=50 {ms(START + 3600 * i)}" for i in range(10)]
    lines += [f"houqin,site=moon-kg,device=main-water,kind=water_meter usage_l=101 {ms(START + 86400 + 60 * i)}"
              for i in range(30)]
    lines += [f"houqin,site=sky-kg,device=water,kind=water_meter usage_l=1000 {ms(START + 7200)}"]
    return lines


@pytest.fixture
def robot() -> Iterator[WebhookServer]:
    server = WebhookServer()
    yield server
    server.close()


def summary_site(central: CentralBroker, tmp_path: Path, vm: VictoriaMetrics, robot: WebhookServer,
                 summary: list[str]) -> Path:
    """The generated week in VictoriaMetrics and a district.toml sending the summary to ``robot``."""
    vm.write(generated())
    toml = service_toml(central, tmp_path / "district-data",
                        {"kind": "victoriametrics", "url": vm.url, "database": "houqin"})
    toml.write_text(toml.read_text(encoding="utf-8") + "\n".join([
        "", "[notify.channels.robot]", 'type = "webhook"', 'format = "wecom"', f'url = "{robot.url("/wecom")}"',
        "", "[summary]", 'channels = ["robot"]', *summary, ""]), encoding="utf-8")
    return toml


def test_weekly_summary_names_the_sites_needing_attention(central: CentralBroker, tmp_path: Path,
                                                          victoriametrics: VictoriaMetrics,
                                                          robot: WebhookServer) -> None:
    toml = summary_site(central, tmp_path, victoriametrics, robot,
                        ['at = "08:30"', 'link = "https://district.example.org"'])
    clock = ManualClock(SATURDAY)
    service = DistrictService(load_district(toml), clock=clock, hasher=cheap_hasher())
    service.start()
    publishers = []
    try:
        publishers = [SitePublisher(central, s) for s in SITES]
        sun, moon, star, _sky = publishers
        sun.alert(1, "critical", opened_at=SATURDAY - 3600)  # nobody acknowledged it
        moon.alert(2, "critical", "acknowledged", opened_at=SATURDAY - 3600)  # acknowledged: no reason
        star.offline()
        wait_for(lambda: {s: st.online for s, st in service.board.snapshot().items()} ==
                 {"sun-kg": True, "moon-kg": True, "star-kg": False, "sky-kg": True}
                 and 1 in service.board.snapshot()["sun-kg"].alerts
                 and 2 in service.board.snapshot()["moon-kg"].alerts, "the sites' states on the board")
        clock.set(MONDAY + 8 * 3600)  # Monday 08:00: not yet
        assert service.summary.tick() is None and robot.at("/wecom") == []
        clock.set(MONDAY + 8 * 3600 + 31 * 60)
        assert service.summary.tick() == {"robot": None}
        assert service.summary.tick() is None  # once a week
        [got] = robot.at("/wecom")
        assert got.body["msgtype"] == "markdown"
        text = got.body["markdown"]["content"]
        assert text.splitlines()[0] == "**测试区教委周报（2026-11-02 至 2026-11-08）：3 所园所需要关注**"
        lines = [x.removeprefix("> ") for x in text.splitlines() if x.startswith("> ")]
        assert lines == [
            "1. 幼儿园1：1 条紧急告警无人确认，最早的一条已 1 天 23 小时",
            "2. 幼儿园3：已离线 1 天 22 小时",
            "3. 幼儿园2：冷链：冰箱在安全温度范围内的时间仅占 80.2%；"
            "用水偏多：每名幼儿每个在园日 6.0 升（3 所中第 1 名）",
        ]
        assert "完整表格：https://district.example.org" in text
        assert not re.search(r"[a-z]+-kg|critical|fridge|W45", text)
        english = service.summary.message(locale="en").text.splitlines()
        assert english[0] == "测试区教委: weekly summary 2026-11-02 to 2026-11-08, 3 site(s) need attention"
        assert english[2] == "2. 幼儿园3: offline for 1 day 22 hours"
        assert english[3] == ("3. 幼儿园2: cold chain: fridge in its safe range 80.2% of the time; most water per "
                              "child: 6.0 L per child and school day (rank 1 of 3)")
    finally:
        for p in publishers:
            p.close()
        service.stop()


def test_summary_channels_must_be_configured(central: CentralBroker, tmp_path: Path) -> None:
    from gateway.errors import ConfigError

    toml = service_toml(central, tmp_path / "district-data", None)
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[summary]\nchannels = ["robot"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[summary\] channels names 'robot'"):
        load_district(toml)


def test_summary_command_prints_and_sends(central: CentralBroker, tmp_path: Path, victoriametrics: VictoriaMetrics,
                                          robot: WebhookServer, capsys: pytest.CaptureFixture[str]) -> None:
    """``houqin district summary`` reads the sites' retained states from the central broker (a client of its own, so
    a running service's session is left alone) and the tables from the store; ``--send`` sends it once."""
    toml = summary_site(central, tmp_path, victoriametrics, robot, [])
    publishers = [SitePublisher(central, s) for s in SITES]  # each says "online", retained
    sun, star = publishers[0], publishers[2]
    opened = time.time() - 3600 - 5
    sun.open_alerts([(Alert(id=1, rule="fridge-warm", device="fridge-1", kind="threshold", severity="critical",
                            state="active", chain=None, metric="temperature", value=9.5, detail="", since=opened,
                            opened_at=opened), messages.AlertFacts("fridge", 600.0))], opened)
    star.offline()
    try:
        summary_command(toml, robot, tmp_path, capsys)
    finally:
        for p in publishers:
            p.close()


def summary_command(toml: Path, robot: WebhookServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["district", "summary", "--config", str(toml), "--week", "2026-W45"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "测试区教委周报（2026-11-02 至 2026-11-08）：3 所园所需要关注"
    assert lines[1] == "1. 幼儿园1：1 条紧急告警无人确认，最早的一条已 1 小时"
    assert lines[2].startswith("2. 幼儿园3：")
    assert lines[3] == ("3. 幼儿园2：冷链：冰箱在安全温度范围内的时间仅占 80.2%；"
                        "用水偏多：每名幼儿每个在园日 6.0 升（3 所中第 1 名）")
    assert robot.at("/wecom") == []
    assert main(["district", "summary", "--config", str(toml), "--week", "2026-W45", "--lang", "en", "--send"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1] == "1. 幼儿园1: 1 critical alert(s) nobody acknowledged, the oldest open for 1 hour"
    assert "robot: sent" in err
    [got] = robot.at("/wecom")
    assert "1 critical alert(s) nobody acknowledged" in got.body["markdown"]["content"]
    # noted as sent: the running service's scheduled send skips this week
    db = EventsDB(tmp_path / "district-data" / "district.db")
    assert db.conn().execute("SELECT period FROM report_deliveries WHERE report = 'district-summary'").fetchall() == \
        [("2026-W45",)]
    db.close()
    assert main(["district", "summary", "--config", str(toml), "--week", "2026-W99"]) == 2
