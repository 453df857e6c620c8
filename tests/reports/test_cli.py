"""``houqin report weekly|sheet|samples`` on a real config file, events DB and store."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.clock import ManualClock
from gateway.config import load_config
from gateway.eventsdb import EventsDB
from gateway.reports.samples import SampleLedger
from gateway.store.sqlite import SqliteStore
from tests.reports.series import local_ts, write_meter, write_temps

TZ = "Asia/Shanghai"


def site(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    path = tmp_path / "houqin.toml"
    path.write_text(f"""
[site]
id = "kg"
name = "阳光幼儿园"
locale = "zh-CN"

[storage]
dir = "{data}"

[[devices]]
id = "water"
kind = "water_meter"
name = "总水表"

[[devices]]
id = "sample-fridge"
kind = "sample_fridge"
name = "留样冰箱"

[reports.tariff.water]
kind = "flat"
price = 4.5
""", encoding="utf-8")
    cfg = load_config(path)
    store = SqliteStore(data / "timeseries.db")
    db = EventsDB(data / "events.db")
    try:
        # 2026-W46 (Nov 9-15): 12 L/h all week = 2.016 m³.
        write_meter(store, cfg, "water", "total_l", local_ts(date(2026, 11, 9), 0, 0, TZ),
                    local_ts(date(2026, 11, 16), 0, 0, TZ), lambda ts: 1.0)
        write_temps(store, "sample-fridge", local_ts(date(2026, 11, 10), 0, 0, TZ),
                    local_ts(date(2026, 11, 13), 0, 0, TZ), lambda ts: 3.0, every=300)
        ledger = SampleLedger(cfg, db, ManualClock(local_ts(date(2026, 11, 10), 11, 30, TZ)), store)
        ledger.register("2026-11-10", "lunch", [("青菜", "130")], "sample-fridge", "王师傅", by="li")
    finally:
        store.close()
        db.close()
    return path


def test_weekly_csv_md_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = site(tmp_path)
    assert main(["report", "weekly", "--config", str(cfg), "--week", "2026-W46", "--format", "csv"]) == 0
    zh = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))  # the site's language
    assert next(r for r in zh if r["设备编号"] == "water" and r["日期"] == "本周合计")["用量"] == "2.016"
    assert main(["report", "weekly", "--config", str(cfg), "--week", "2026-W46", "--format", "csv",
                 "--lang", "en"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    total = next(r for r in rows if r["device"] == "water" and r["day"] == "total")
    assert (total["use"], total["cost"], total["unit"]) == ("2.016", "9.07", "m³")
    assert [r["use"] for r in rows if r["device"] == "water" and r["day"] != "total"] == ["0.288"] * 7
    assert main(["report", "weekly", "--config", str(cfg), "--week", "2026-W46", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("**阳光幼儿园 · ") and "2026-W46" in md and "总水表" in md and "2.02 m³" in md
    out = tmp_path / "w.html"
    assert main(["report", "weekly", "--config", str(cfg), "--week", "2026-W46", "--format", "html",
                 "--lang", "en", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<style>" in html and "<svg" in html and "<nav" not in html
    assert main(["report", "weekly", "--config", str(cfg), "--week", "2026-53"]) == 1
    assert "请写成 ISO 周" in capsys.readouterr().err


def test_sheet_and_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = site(tmp_path)
    assert main(["report", "sheet", "--config", str(cfg), "--day", "2026-11-10"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    # A zh-CN site's export is in Chinese (issue 12); --lang en gives the machine column names.
    assert (row["设备编号"], row["08:00 检查 (°C)"], row["14:00 检查 (°C)"], row["最低 (°C)"], row["超标分钟数"]) == (
        "sample-fridge", "3.0", "3.0", "3.0", "0.0")
    assert main(["report", "sheet", "--config", str(cfg), "--day", "2026-11-10", "--lang", "en"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert (row["device"], row["check_08:00"], row["minutes_out"]) == ("sample-fridge", "3.0", "0.0")
    assert main(["report", "sheet", "--config", str(cfg), "--month", "2026-11", "--format", "html"]) == 0
    assert "留样冰箱" in capsys.readouterr().out
    assert main(["report", "samples", "--config", str(cfg), "--month", "2026-11"]) == 0
    [z] = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert (z["餐次"], z["留样状态"], z["温度合格"]) == ("午餐", "可以销毁", "是")  # the site's language
    assert main(["report", "samples", "--config", str(cfg), "--month", "2026-11", "--lang", "en"]) == 0
    [s] = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert (s["meal"], s["dishes"], s["staff"], s["kept_ok"], s["status"]) == ("lunch", "青菜 130 g", "王师傅", "1",
                                                                               "due")
    assert s["verdict"] == "kept 0–8 °C the whole time" and z["48小时"] == "在 0–8 °C 之间保存了全程"
    assert main(["report", "sheet", "--config", str(cfg), "--device", "nope"]) == 1
    assert main(["report", "samples", "--config", str(cfg), "--month", "11/2026"]) == 1
    assert "YYYY-MM" in capsys.readouterr().err


def test_reports_doc_example_is_a_valid_config() -> None:
    import re
    import tomllib

    from gateway.config import parse_config

    doc = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text(encoding="utf-8")
    block = doc[doc.index("# Reports"):]
    m = re.search(r"```toml\n(.*?)```", block, re.S)
    assert m is not None
    raw = tomllib.loads(m.group(1))
    hook = {"type": "webhook", "format": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"}
    raw.update({"site": {"id": "kg"}, "notify": {
        "channels": {"office-wecom": hook, "kitchen-wecom": hook,
                     "head-mail": {"type": "email", "host": "smtp.example.com", "from": "a@kg.example",
                                   "to": ["head@kg.example"]}},
        "chains": {"kitchen": {"steps": [{"channels": ["kitchen-wecom"]}]}}}})
    cfg = parse_config(raw)
    assert cfg.reports.weekly.channels == ["office-wecom", "head-mail"]
    assert cfg.reports.tariff.power is not None and cfg.reports.tariff.power.kind == "peak_valley"
    del raw["notify"]["chains"]
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[reports.samples\] notify = 'kitchen' names no chain"):
        parse_config(raw)
