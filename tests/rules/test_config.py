"""``[[rules]]``, ``[notify]`` and ``[calendar]`` in the config: good shapes load, bad ones name the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.errors import ConfigError
from gateway.notify.config import WebhookChannel
from gateway.rules.settings import ThresholdRule

ISSUE_EXAMPLE = """
[site]
id = "kg"

[[devices]]
id = "kitchen-fridge-1"
kind = "fridge"

[[devices]]
id = "gate"
kind = "gate"

[[rules]]
id = "fridge-warm"
kind = "threshold"
devices = ["kitchen-fridge*"]
metric = "temperature"
above = 8.0
clear_below = 7.0
for = "10m"
severity = "critical"
notify = "kitchen"

[notify.channels.kitchen-group]
type = "webhook"
format = "wecom"            # wecom | dingtalk | feishu | generic
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY"

[notify.channels.gate-buzzer]
type = "buzzer"
device = "gate"

[notify.channels.principal-mail]
type = "email"
host = "smtp.example.com"
from = "houqin@example.com"
to = ["principal@example.com"]
password_env = "HOUQIN_SMTP_PASSWORD"

[notify.chains.kitchen]
steps = [ { after = "0m", channels = ["kitchen-group", "gate-buzzer"] },
          { after = "15m", channels = ["principal-mail"] } ]
repeat = "30m"

[calendar]
holidays = ["2026-10-01..2026-10-07"]
makeup_workdays = ["2026-10-10"]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "houqin.toml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_issue_example_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ISSUE_EXAMPLE))
    [rule] = cfg.rules
    assert isinstance(rule, ThresholdRule) and rule.for_ == 600 and rule.clear_below == 7.0
    chain = cfg.notify.chains["kitchen"]
    assert [s.after for s in chain.steps] == [0, 900] and chain.repeat == 1800
    assert isinstance(cfg.notify.channels["kitchen-group"], WebhookChannel)


def test_example_config_in_deploy_loads() -> None:
    path = Path(__file__).resolve().parents[2] / "deploy" / "houqin.example.toml"
    cfg = load_config(path)
    assert {r.id for r in cfg.rules} >= {"fridge-warm", "freezer-warm", "sample-fridge-range", "sensor-silent",
                                          "night-water", "gate-forced", "power-left-on"}


@pytest.mark.parametrize(("change", "expected"), [
    (('notify = "kitchen"', 'notify = "kitchn"'), "names no chain; add [notify.chains.kitchn]"),
    (('channels = ["principal-mail"]', 'channels = ["principal-mial"]'), "channel 'principal-mial', which is not"),
    (('for = "10m"', 'for = "10 minutes"'), "rules[0].threshold.for"),
    (('kind = "threshold"', 'kind = "thresold"'), "rules[0]"),
    (('above = 8.0', 'abov = 8.0'), "unknown key"),
    (('format = "wecom" ', 'format = "slack" '), "notify.channels.kitchen-group"),
    (('holidays = ["2026-10-01..2026-10-07"]', 'holidays = ["2026-10-32"]'), "calendar.holidays"),
    (('severity = "critical"', 'severity = "urgent"'), "severity"),
    # A misspelt device would leave the fridge unwatched without a word: refused, naming the entry.
    (('devices = ["kitchen-fridge*"]', 'devices = ["kitchen-fridge"]'),
     "rules[0].devices entry \"kitchen-fridge\" (rule 'fridge-warm'): matches no [[devices]] id "
     "(configured: kitchen-fridge-1, gate)"),
    (('devices = ["kitchen-fridge*"]', 'devices = ["kitchen-frige*"]'),
     "\"kitchen-frige*\" (rule 'fridge-warm'): matches no [[devices]]"),
    (('device = "gate"', 'device = "gate-agnet"'),
     "notify.channels.gate-buzzer: device 'gate-agnet' is not a [[devices]] id, so the buzzer would never sound"),
])
def test_mistakes_are_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in ISSUE_EXAMPLE
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, ISSUE_EXAMPLE.replace(change[0], change[1])))
    assert expected in str(err.value)


def test_threshold_needs_a_bound(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs above = N and/or below = N"):
        load_config(write(tmp_path, ISSUE_EXAMPLE.replace("above = 8.0", "")))


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    text = ISSUE_EXAMPLE + '\n[[rules]]\nid = "fridge-warm"\nkind = "stale"\ndevices = ["*"]\n'
    # TOML arrays of tables must be contiguous in meaning, not in text: this appends a second rule.
    with pytest.raises(ConfigError, match="used twice"):
        load_config(write(tmp_path, text))
