"""Rollups folded forward for appended rows equal a recompute from raw, bit for bit."""

from __future__ import annotations

import random
from pathlib import Path

from gateway.model import Reading
from gateway.store.sqlite import _RECOMPUTE_1H, _RECOMPUTE_5M, SqliteStore

T0 = 1_790_000_000.0


def _rollups(store: SqliteStore) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    c = store._writer
    return (c.execute("SELECT * FROM rollup_5m ORDER BY series_id, bucket").fetchall(),
            c.execute("SELECT * FROM rollup_1h ORDER BY series_id, bucket").fetchall())


def test_appends_overwrites_and_late_rows_leave_the_same_rollups_as_a_recompute(tmp_path: Path) -> None:
    rnd = random.Random(7)
    with SqliteStore(tmp_path / "ts.db") as store:
        t = T0
        for _ in range(300):
            batch = []
            for _ in range(rnd.randint(1, 8)):
                t += rnd.choice([0.25, 1.0, 7.3, 61.0])
                batch.append(Reading(t, f"fridge-{rnd.randint(0, 2)}", "temperature", round(rnd.uniform(-20, 9), 3)))
            if rnd.random() < 0.15:  # an overwrite or a late reading into an earlier bucket
                batch.append(Reading(t - rnd.choice([0.0, 30.0, 400.0]), "fridge-0", "temperature", rnd.uniform(0, 5)))
            if rnd.random() < 0.05:  # the same timestamp twice in one batch: the later value wins
                batch += [Reading(t + 0.5, "fridge-1", "temperature", v) for v in (1.0, 2.0)]
            store.write(batch)
        folded = _rollups(store)
        c = store._writer
        c.execute("BEGIN IMMEDIATE")
        c.execute("DELETE FROM dirty_5m")
        c.execute("DELETE FROM dirty_1h")
        c.execute("INSERT INTO dirty_5m SELECT hour, series_id, bucket FROM rollup_5m")
        c.execute("INSERT INTO dirty_1h SELECT hour, series_id, bucket FROM rollup_1h")
        c.execute(_RECOMPUTE_5M)
        c.execute(_RECOMPUTE_1H)
        recomputed = _rollups(store)
        c.execute("ROLLBACK")
        assert len(folded[0]) > 50
        assert folded == recomputed
