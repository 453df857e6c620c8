"""Read commands before the gateway ever ran: they say so and create nothing where the service will write."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main


@pytest.mark.parametrize("argv", [["query", "fridge-1"], ["tail"]])
def test_read_commands_without_a_store_create_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      argv: list[str]) -> None:
    data = tmp_path / "data"
    config = tmp_path / "houqin.toml"
    config.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{data}"\n[[devices]]\nid = "fridge-1"\nkind = "fridge"\n',
                      encoding="utf-8")
    assert main(["--lang", "en", *argv, "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"no time-series database at {data / 'timeseries.db'}" in err and "has the gateway run" in err
    assert not data.exists(), "a read command must not create the store (as root it would own the files)"
