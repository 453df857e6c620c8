"""``houqin storage compact`` on a store of many series: one progress line, not one line per series."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.model import Reading
from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore
from tests.store.timeline import T0

SERIES = 70


def _site(tmp_path: Path) -> Path:
    cfg = tmp_path / "houqin.toml"
    cfg.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{tmp_path / "data"}"\n[storage.retention]\nraw = "1d"\n',
                   encoding="utf-8")
    with SqliteStore(tmp_path / "data" / TIMESERIES_DB_NAME) as store:
        store.write([Reading(T0 + 60 * i, f"dev-{n}", "temperature", 4.0) for n in range(SERIES) for i in range(30)])
    return cfg


def test_in_a_log_a_few_plain_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "storage", "compact", "--config", str(_site(tmp_path))]) == 0
    out, err = capsys.readouterr()
    assert f"deleted: {SERIES * 30} raw row(s)" in out
    lines = err.splitlines()
    assert "\r" not in err and "\033" not in err
    assert len(lines) <= 10, lines  # it was one line per series and table: about 2 × SERIES
    # each phase is shown and the last step of each says how it ended
    assert any(line.startswith("raw: day ") and line.endswith(f", {SERIES * 30} row(s) deleted") for line in lines)
    assert any(line.startswith("checkpointing") for line in lines)


def test_on_a_terminal_one_line_updated_in_place(tmp_path: Path) -> None:
    cfg = _site(tmp_path)
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "30"}
    argv = [sys.executable, "-m", "gateway", "--lang", "en", "storage", "compact", "--config", str(cfg)]
    proc = subprocess.Popen(argv,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, out
    err = b"".join(chunks).decode()
    assert err.count("\r\x1b[K") >= SERIES  # every step rewrote the line
    # the heading, the one progress line and nothing else (the terminal turns \n into \r\n)
    assert err.replace("\r\n", "\n").count("\n") == 2, err
    assert "deleted:" in out.decode()
