from __future__ import annotations

import os
from pathlib import Path

from sensors.journal import PulseJournal


def test_total_survives_reopen(tmp_path: Path) -> None:
    j = PulseJournal(tmp_path / "m.journal", sync_every=5)
    for _ in range(12):
        j.add()
    j.close()
    assert PulseJournal(tmp_path / "m.journal").total == 12


def test_unsynced_pulses_survive_a_killed_process(tmp_path: Path) -> None:
    # write() reaches the page cache at once; reopening without close() sees every pulse
    j = PulseJournal(tmp_path / "m.journal", sync_every=1000)
    for _ in range(7):
        j.add()
    assert PulseJournal(tmp_path / "m.journal").total == 7


def test_torn_and_corrupt_tail_ignored(tmp_path: Path) -> None:
    p = tmp_path / "m.journal"
    j = PulseJournal(p)
    for _ in range(3):
        j.add()
    j.close()
    with open(p, "ab") as f:
        f.write(b"4 deadbeef\n")  # bad checksum
        f.write(b"99")  # torn record
    j2 = PulseJournal(p)
    assert j2.total == 3
    j2.add()
    j2.close()
    assert PulseJournal(p).total == 4


def test_compaction_keeps_total_and_bounds_size(tmp_path: Path) -> None:
    p = tmp_path / "m.journal"
    j = PulseJournal(p, sync_every=1, max_bytes=200)
    for _ in range(500):
        j.add()
    j.close()
    assert p.stat().st_size <= 200 + 20
    assert PulseJournal(p).total == 500
    assert not (tmp_path / "m.journal.tmp").exists()


def test_leftover_tmp_from_cut_compaction_ignored(tmp_path: Path) -> None:
    p = tmp_path / "m.journal"
    j = PulseJournal(p)
    j.add(5)
    j.close()
    (tmp_path / "m.journal.tmp").write_bytes(b"9999")
    assert PulseJournal(p).total == 5
    assert not (tmp_path / "m.journal.tmp").exists()


def test_fsync_count_is_bounded(tmp_path: Path, monkeypatch: object) -> None:
    calls = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    import pytest

    mp = pytest.MonkeyPatch()
    mp.setattr(os, "fsync", counting)
    try:
        j = PulseJournal(tmp_path / "m.journal", sync_every=10)
        calls.clear()
        for _ in range(100):
            j.add()
            j.maybe_sync()  # what the agent's tick does
        assert len(calls) == 10
        j.sync()
        j.sync()  # nothing pending: no write to the card
        assert len(calls) == 10
    finally:
        mp.undo()
