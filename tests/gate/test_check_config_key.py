"""``houqin check-config`` warns when ``[gate] id_numbers = "encrypted"`` has no usable key (the gateway
would refuse to start), and stays quiet when the key is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "houqin.toml"
    path.write_text(f"""
[site]
id = "kg"

[storage]
dir = "{tmp_path / 'data'}"

[gate]
id_numbers = "encrypted"
id_key_env = "HOUQIN_TEST_ID_KEY"
""", encoding="utf-8")
    return path


def test_missing_or_bad_key_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path)
    monkeypatch.delenv("HOUQIN_TEST_ID_KEY", raising=False)
    assert main(["--lang", "en", "check-config", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "HOUQIN_TEST_ID_KEY" in err and "secrets.token_hex(32)" in err
    monkeypatch.setenv("HOUQIN_TEST_ID_KEY", "abc")
    assert main(["--lang", "en", "check-config", str(path)]) == 0
    assert "64 hexadecimal characters" in capsys.readouterr().err
    monkeypatch.setenv("HOUQIN_TEST_ID_KEY", "11" * 32)
    assert main(["--lang", "en", "check-config", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err
