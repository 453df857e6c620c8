"""The CLI speaks the config's ``[site] locale`` (zh-CN by default), ``--lang`` overriding it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.i18n import translations

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, locale: str | None, extra: str = "") -> Path:
    site = f'locale = "{locale}"\n' if locale else ""
    path = tmp_path / "houqin.toml"
    path.write_text(f'[site]\nid = "kg"\n{site}[storage]\ndir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return path


BAD = '[mqtt]\nkeepalive = "30"\n[[devices]]\nid = "f"\nkind = "fridge"\n[[rules]]\nid = "warm"\nkind = "threshold"\n' \
      'devices = ["f"]\nabove = 8\nseverity = "urgent"\nnotify = "kitchn"\n'


def test_check_config_speaks_the_sites_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, None, BAD)  # no locale: zh-CN, the default
    assert main(["check-config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("配置有误（3 处）：")
    assert 'mqtt.keepalive = "30": 必须是不带引号的整数：keepalive = 30' in err
    assert 'severity = "urgent": 只能是以下之一："critical", "major", "minor" 或 "warning"' in err
    assert "没有这个通知链" in err and "must be" not in err and "configuration error" not in err

    for argv in (["check-config", str(cfg), "--lang", "en"], ["--lang", "en", "check-config", str(cfg)]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("configuration error (3 problem(s)):")
        assert 'severity = "urgent": must be one of "critical", "major", "minor" or "warning"' in err

    good = _config(tmp_path, "en")
    assert main(["check-config", str(good)]) == 0
    assert capsys.readouterr().out.startswith("ok: site 'kg', 0 device(s)")
    assert main(["check-config", str(good), "--lang", "zh-CN"]) == 0
    assert capsys.readouterr().out.startswith("配置正确：站点 'kg'，0 台设备")


def test_a_missing_file_in_the_default_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "nope.toml")]) == 1
    assert "文件不存在" in capsys.readouterr().err


def test_storage_and_query_errors_in_the_sites_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, "zh-CN")
    assert main(["storage", "compact", "--config", str(cfg)]) == 1
    assert "处没有时序数据库" in capsys.readouterr().err
    assert main(["query", "fridge", "--config", str(cfg)]) == 1
    assert "处没有时序数据库" in capsys.readouterr().err
    assert main(["query", "fridge", "--since", "lately", "--config", str(cfg)]) == 2
    assert "不是时长" in capsys.readouterr().err
    assert main(["storage", "compact", "--config", str(cfg), "--lang", "en"]) == 1
    assert "no time-series database" in capsys.readouterr().err

    from gateway.model import Reading
    from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore

    with SqliteStore(tmp_path / "data" / TIMESERIES_DB_NAME) as store:
        store.write([Reading(1_795_000_000.0, "other", "temperature", 4.0)])
    assert main(["query", "fridge", "--config", str(cfg)]) == 1
    assert "没有设备 'fridge'；现有设备：other" in capsys.readouterr().err


def _cli_msgids() -> set[str]:
    """English texts the CLI and the config's problems pass through ``say``/``tr``/``translate``."""
    found: set[str] = set()
    # the config's problems: its own, and the checks across sections of every settings module it calls
    files = [*sorted((ROOT / "gateway" / "cli").glob("*.py")), ROOT / "gateway" / "config.py",
             *(ROOT / p for p in ("gateway/rules/settings.py", "gateway/gate/settings.py", "gateway/notify/config.py",
                                  "gateway/reports/settings.py", "gateway/inspections/settings.py",
                                  "sensors/config.py", "gateway/values.py", "gateway/calendar.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in ("say", "tr", "translate", "_say", "Said"):
                continue
            for arg in node.args[:2]:
                options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                found.update(o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str))
    return found


def test_every_cli_text_has_a_chinese_translation() -> None:
    ids = _cli_msgids()
    assert {"stopped", "configuration error ({n} problem(s)):", "must be one of {allowed}"} <= ids
    zh = translations("zh-CN")
    missing = sorted(m for m in ids if zh.gettext(m) == m)
    assert not missing, f"add these to gateway/locale/zh_CN/LC_MESSAGES/cli.po: {missing}"


CROSS = '''[storage]
timeseries = "influxdb"
[mqtt]
keepalive = 30
[[devices]]
id = "f"
kind = "fridge"
[[sensors]]
type = "ds18b20"
probes = { "28-0316a2799bff" = "nowhere" }
[gate]
forgery_notify = "nochain"
[reports.weekly]
channels = ["nochannel"]
[calendar]
holidays = ["2026-13-01"]
[[rules]]
id = "slow"
kind = "stale"
devices = ["f"]
for = "soon"
'''


def test_check_config_says_every_kind_of_problem_in_chinese(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Checks across sections, field checks and pydantic's own texts, all in the site's language."""
    path = tmp_path / "houqin.toml"
    path.write_text(f'inspections = 3\n[site]\nid = "kg"\ntimezone = "Mars/Olympus"\n'
                    f'{CROSS.replace("[storage]", f"[storage]{chr(10)}dir = {chr(34)}{tmp_path}{chr(34)}")}',
                    encoding="utf-8")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    for said in ("需要 [influxdb] 一节", "没有这个通知链", "不在 [notify.channels] 中", "不在 [[devices]] 中",
                 "不是时长", "不是日期或日期范围", "不是已知的 IANA 时区", "必须是一个表"):
        assert said in err, (said, err)
    for english in ("needs an", "names no chain", "is not in", "is not a", "Input should", "write e.g."):
        assert english not in err, (english, err)


ALERTING = '''[[devices]]
id = "kitchen-fridge"
kind = "fridge"
name = "厨房冷藏"
[[rules]]
id = "fridge-warm"
kind = "threshold"
name = "冷藏温度过高"
devices = ["kitchen-fridge"]
metric = "temperature"
above = 8
severity = "critical"
'''


def _open_alert(tmp_path: Path) -> int:
    from gateway.alerts.store import AlertStore, OpenRequest
    from gateway.eventsdb import EVENTS_DB_NAME, EventsDB

    (tmp_path / "data").mkdir(exist_ok=True)
    db = EventsDB(tmp_path / "data" / EVENTS_DB_NAME)
    try:
        store = AlertStore(db)
        alert, _ = store.open(OpenRequest("fridge-warm", "kitchen-fridge", "threshold", "critical", None,
                                          "temperature", 9.5, "above", 1_795_000_000.0), 1_795_000_000.0)
        store.close()
        return alert.id
    finally:
        db.close()


def test_alerts_and_ack_speak_the_sites_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command every notification names says names and words, not rule ids, states or severities."""
    cfg = str(_config(tmp_path, "zh-CN", ALERTING))
    alert_id = _open_alert(tmp_path)
    assert main(["alerts", "--config", cfg]) == 0
    out = capsys.readouterr().out
    for said in ("状态", "未处理", "紧急", "厨房冷藏", "冷藏温度过高"):
        assert said in out, (said, out)
    for machine in ("fridge-warm", "kitchen-fridge", "active", "critical", "STATE"):
        assert machine not in out, (machine, out)
    assert main(["alerts", "--json", "--config", cfg]) == 0  # machines keep their ids
    assert '"rule": "fridge-warm"' in capsys.readouterr().out

    assert main(["ack", "999", "--by", "张阿姨", "--note", "移到备用冰箱", "--config", cfg]) == 1
    assert "错误：没有编号为 999 的告警" in capsys.readouterr().err
    assert main(["ack", str(alert_id), "--by", "张阿姨", "--note", " ", "--config", cfg]) == 1
    assert "请说明采取的措施" in capsys.readouterr().err
    assert main(["ack", str(alert_id), "--by", "张阿姨", "--note", "移到备用冰箱", "--config", cfg]) == 0
    assert capsys.readouterr().out.strip() == f"告警 {alert_id}（厨房冷藏：冷藏温度过高）已由 张阿姨 确认；状态：已确认"
    assert main(["ack", str(alert_id), "--by", "张阿姨", "--note", "again", "--config", cfg]) == 1
    assert f"告警 {alert_id} 已由 张阿姨 确认过" in capsys.readouterr().err
    assert main(["alerts", "--config", cfg, "--lang", "en"]) == 0
    assert "acknowledged" in capsys.readouterr().out


def test_user_and_report_speak_the_sites_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import io

    cfg = str(_config(tmp_path, "zh-CN", ALERTING))
    assert main(["user", "list", "--config", cfg]) == 0
    assert "还没有用户" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a very long secret\n"))
    assert main(["user", "add", "zhang", "--role", "kitchen", "--display-name", "张阿姨", "--password-stdin",
                 "--config", cfg]) == 0
    assert capsys.readouterr().out.strip() == "已创建用户 'zhang'，角色：厨房"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "passwd", "zhang", "--password-stdin", "--config", cfg]) == 1
    assert "错误：" in (err := capsys.readouterr().err) and "at least" not in err
    assert main(["user", "disable", "zhang", "--config", cfg]) == 0
    assert capsys.readouterr().out.strip() == "'zhang' 已停用；已结束 0 个会话"
    assert main(["user", "list", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "厨房" in out and "已停用" in out and "kitchen" not in out and "disabled" not in out

    for argv, said in ((["weekly", "--week", "soon"], "'soon' 不是周"),
                       (["weekly", "--week", "2030-W01"], "还没有开始"),
                       (["sheet", "--day", "tomorrow"], "--day 'tomorrow'：请写成"),
                       (["samples", "--month", "11"], "--month '11'：请写成"),
                       (["sheet", "--device", "oven"], "错误：配置中的 'oven' 不是冷藏柜")):
        assert main(["report", *argv, "--config", cfg]) == 1, argv
        err = capsys.readouterr().err
        assert said in err, (argv, err)
