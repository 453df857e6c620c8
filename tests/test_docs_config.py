"""docs/configuration.md is generated from the settings models: it must be current and leave no key unexplained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.config_reference import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
FIX = "run `houqin docs config > docs/configuration.md` and commit it"


def test_configuration_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), f"docs/configuration.md is stale: {FIX}"


def test_every_key_has_a_meaning() -> None:
    missing = [line for line in render().splitlines() if line.endswith("| — |")]
    assert not missing, ("keys without a meaning; add a docstring right after the field in its settings model "
                         f"(pydantic use_attribute_docstrings), then {FIX}:\n" + "\n".join(missing))


def test_reference_covers_every_section_and_kind() -> None:
    text = render()
    for heading in ("`[site]`", "`[mqtt]`", "`[storage.retention]`", "`[dashboard]`", "`[[devices]]`",
                    "`[[sensors]]` with `type` = `\"ds18b20\"`", "`[influxdb]`", "`[calendar]`",
                    "`[[rules]]` with `kind` = `\"threshold\"`", "`[[rules]]` with `kind` = `\"gate_forced\"`",
                    "`[notify.channels.NAME]` with `type` = `\"webhook\"`", "`[[notify.chains.NAME.steps]]`",
                    "`[reports.samples]`", "`[[gate.patrols.checkpoints]]`", "`[homeassistant]`"):
        assert f" {heading}\n" in text, heading
    assert "| `for` | duration | `\"10m\"` |" in text or "| `for` | duration | `\"15m\"` |" in text


def test_cli_writes_the_same_text(tmp_path: Path) -> None:
    out = tmp_path / "configuration.md"
    subprocess.run([sys.executable, "-m", "gateway", "docs", "config", "--output", str(out)], check=True)
    assert out.read_text(encoding="utf-8") == render()
