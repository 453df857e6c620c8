"""SQLite store under threads and kill -9: readers never see half a batch; nothing committed is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from gateway.model import Reading
from gateway.store.sqlite import SqliteStore

T0 = 1_772_409_600.0  # 2026-03-02 00:00 UTC
BATCH = 120  # one hour of minute readings for two series


def batch(n: int) -> list[Reading]:
    ts0 = T0 + n * 3600
    return [Reading(ts0 + 60 * i, dev, "temperature", float(n)) for i in range(60) for dev in ("a", "b")]


def test_one_writer_thread_and_reader_threads(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db")
    batches = 60
    done = threading.Event()
    errors: list[BaseException] = []
    seen: dict[str, list[int]] = {}

    def writer() -> None:
        try:
            for n in range(batches):
                store.write(batch(n))
        except BaseException as e:
            errors.append(e)
        finally:
            done.set()

    def reader(name: str) -> None:
        counts = seen.setdefault(name, [])
        try:
            while True:
                finished = done.is_set()
                raw = store.query("a", "temperature", T0, T0 + batches * 3600)
                hours = store.aggregate("b", "temperature", T0, T0 + batches * 3600, 3600, "count")
                counts.append(len(raw))
                # Each batch is one transaction: a reader sees whole hours, never part of one.
                assert len(raw) % 60 == 0
                assert all(h.value == 60 for h in hours)
                if finished:
                    break
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader, args=(f"r{i}",)) for i in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    for counts in seen.values():
        assert counts == sorted(counts)  # a reader never goes back in time
        assert counts[-1] == batches * 60
    store.close()


_CHILD = """
import sys
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
T0 = 1_772_409_600.0
store = SqliteStore(sys.argv[1])
n = 0
while True:
    ts0 = T0 + n * 3600
    store.write([Reading(ts0 + 60 * i, dev, "usage_l", 1.0) for i in range(60) for dev in ("a", "b")])
    print(n, flush=True)
    n += 1
"""


def test_kill_9_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "ts.db"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    last = -1
    for line in child.stdout:  # bounded: the child commits a batch per line
        last = int(line)
        if last >= 30:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert last >= 30
    with SqliteStore(path) as store:
        rows = store.query("a", "usage_l", T0, T0 + 10_000 * 3600)
        assert len(rows) >= (last + 1) * 60
        assert len(rows) % 60 == 0  # the batch being written when killed is all there or not at all
        end = T0 + (len(rows) // 60) * 3600
        fast = store.aggregate("b", "usage_l", T0, end, 86400, "sum")
        slow = store.aggregate_raw("b", "usage_l", T0, end, 86400, "sum")
        assert fast == slow
        assert sum(b.value for b in fast) == len(rows)
