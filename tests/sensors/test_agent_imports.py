"""The agent on the Pi imports only what it needs: settings are values, so loading the config pulls in no rule
evaluators, alert store, notification code, gate card registry or Babel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Modules (and their submodules) the agent must not load. Settings modules of these packages are values
#: (``gateway.notify.config``, ``gateway.rules.settings``, ``gateway.gate.settings``) and are allowed.
FORBIDDEN = ("babel", "jinja2", "gateway.i18n", "gateway.alerts", "gateway.gate.cards", "gateway.eventsdb",
             "gateway.rules.base", "gateway.rules.kinds", "gateway.rules.engine", "gateway.rules.describe")
ALLOWED_NOTIFY = {"gateway.notify", "gateway.notify.config"}
EVALUATORS = ("threshold", "stale", "continuous_flow", "closed_hours_use", "gate_held_open", "gate_forced",
              "after_hours_access", "water_leak")


def _loaded(statement: str) -> set[str]:
    code = f"{statement}; import json, sys; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _offending(mods: set[str]) -> list[str]:
    bad = [m for m in mods if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    bad += [m for m in mods if m.startswith("gateway.notify") and m not in ALLOWED_NOTIFY]
    bad += [m for m in mods if m in {f"gateway.rules.{e}" for e in EVALUATORS}]
    return sorted(bad)


def test_agent_loads_no_rules_alerts_notify_cards_or_babel() -> None:
    assert _offending(_loaded("import sensors.agent")) == []


def test_config_loads_no_running_code() -> None:
    assert _offending(_loaded("import gateway.config")) == []
