"""Damaged database files: start-up says which file, what is wrong and the fix; ``storage recover`` moves it aside.

Before: a bad events.db ended in a raw traceback naming no path, and a malformed timeseries.db was
taken for a passing error and retried for ever; neither was ever moved aside.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.eventsdb import EVENTS_DB_NAME, EventsDB
from gateway.model import Reading
from gateway.store.damage import check
from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore
from tests.gateway.ingest_helpers import write_config
from tests.mosquitto import Mosquitto


def _schema_page_overwritten(path: Path) -> None:
    """A real store with data whose first page (the schema) is then overwritten, as a bad SD card does."""
    store = SqliteStore(path)
    store.write([Reading(1_790_000_000.0 + i, "fridge-1", "temperature", 4.0) for i in range(200)])
    store.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x5a" * 3996
    path.write_bytes(bytes(data))


def _start(toml: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", "--config", str(toml)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("which", ["events", "timeseries"])
def test_a_damaged_database_is_named_at_start_and_recover_moves_it_aside(
        which: str, tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    toml = write_config(tmp_path / "houqin.toml", data, mosquitto.url)
    EventsDB(data / EVENTS_DB_NAME).close()
    bad = data / (EVENTS_DB_NAME if which == "events" else TIMESERIES_DB_NAME)
    if which == "events":
        bad.write_bytes(b"not a database, a half-written copy " * 500)
    else:
        _schema_page_overwritten(bad)
    damaged_bytes = bad.read_bytes()

    code, err = _start(toml, capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    assert str(bad) in lines[0] and "damaged" in lines[0]
    assert "restore it from a backup" in lines[0] and "houqin storage recover" in lines[0]

    capsys.readouterr()
    assert main(["storage", "recover", "--config", str(toml)]) == 0
    out = capsys.readouterr().out
    kept = sorted(data.glob(bad.name + ".damaged-*"))
    assert [p.name for p in kept if not p.name.endswith(("-wal", "-shm"))] == [kept[0].name]
    assert kept[0].read_bytes() == damaged_bytes  # moved, not rewritten
    assert str(kept[0]) in out and "fresh" in out
    assert check(bad) is None  # a fresh, sound file in its place

    # Recover again: nothing is damaged, so nothing moves; and it never overwrites what it kept.
    assert main(["storage", "recover", "--config", str(toml)]) == 0
    assert sorted(data.glob(bad.name + ".damaged-*")) == kept
    assert main(["storage", "recover", which, "--force", "--config", str(toml)]) == 0
    again = [p for p in data.glob(bad.name + ".damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(again) == 2 and kept[0].read_bytes() == damaged_bytes
