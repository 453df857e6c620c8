"""Retention per resolution, the maintenance job, ``[storage.retention]`` and ``houqin storage compact``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import parse_config
from gateway.errors import ConfigError
from gateway.model import Reading
from gateway.store.retention import Retention
from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore
from tests.store.timeline import T0, D


def ten_days(store: SqliteStore) -> None:
    """Ten days of 5-minute readings of value 1.0."""
    store.write([Reading(T0 + 300 * i, "m", "usage_l", 1.0) for i in range(10 * 288)])


def count(store: SqliteStore, table: str) -> int:
    conn = sqlite3.connect(store.path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_maintenance_deletes_old_raw_and_rollups_still_answer(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db", retention=Retention(raw=3 * D, rollup_5m=5 * D, rollup_1h=None))
    ten_days(store)
    now = T0 + 10 * D + 1800  # half past: the cut-off is rounded down to the hour
    report = store.maintenance(now)
    assert report.deleted_raw == 7 * 288  # not the half hour past T0 + 7 days
    assert report.deleted_5m == 5 * 288
    assert report.deleted_1h == 0
    assert store.query("m", "usage_l", T0, T0 + 7 * D) == []
    assert len(store.query("m", "usage_l", T0, T0 + 10 * D)) == 3 * 288
    # The daily totals of the whole ten days still come from the hourly rollups.
    days = store.aggregate("m", "usage_l", T0, T0 + 10 * D, D, "sum")
    assert [b.value for b in days] == [288.0] * 10
    # Five-minute detail older than its retention is gone too.
    assert store.aggregate("m", "usage_l", T0, T0 + D, 300, "count") == []
    store.close()


def test_writes_older_than_the_raw_horizon_are_skipped_not_corrupting_rollups(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db", retention=Retention(raw=3 * D))
    ten_days(store)
    store.maintenance(T0 + 10 * D)
    store.write([Reading(T0 + 60, "m", "usage_l", 100.0), Reading(T0 + 10 * D, "m", "usage_l", 2.0)])
    assert store.skipped_old == 1
    [first_day] = store.aggregate("m", "usage_l", T0, T0 + D, D, "sum")
    assert first_day.value == 288.0  # the late reading did not replace the hour with itself
    assert store.query("m", "usage_l", T0 + 10 * D, T0 + 11 * D)[0].value == 2.0
    store.close()
    # The horizon survives a restart.
    with SqliteStore(tmp_path / "ts.db", retention=Retention(raw=3 * D)) as again:
        again.write([Reading(T0 + 120, "m", "usage_l", 100.0)])
        assert again.skipped_old == 1


def test_compact_from_another_process_moves_the_horizon_for_the_running_gateway(tmp_path: Path) -> None:
    gateway_store = SqliteStore(tmp_path / "ts.db", retention=Retention(raw=3 * D))
    ten_days(gateway_store)
    with SqliteStore(tmp_path / "ts.db", retention=Retention(raw=3 * D)) as cli_store:
        cli_store.maintenance(T0 + 10 * D)
    gateway_store.write([Reading(T0 + 60, "m", "usage_l", 100.0)])
    assert gateway_store.skipped_old == 1
    assert gateway_store.aggregate("m", "usage_l", T0, T0 + D, D, "sum")[0].value == 288.0
    gateway_store.close()


def test_maintenance_reclaims_space(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db", retention=Retention(raw=D, rollup_5m=D, rollup_1h=D))
    store.write([Reading(T0 + 60 * i, f"d{i % 7}", "temperature", i * 0.1) for i in range(60_000)])
    report = store.maintenance(T0 + 400 * D)  # the nightly job: a new file is not rewritten behind ingest's back
    assert report.deleted_raw == 60_000
    assert report.size_after > report.size_before / 2
    assert count(store, "raw") == count(store, "rollup_5m") == count(store, "rollup_1h") == 0
    assert len(store.series()) == 7  # the series and their latest sample stay listed
    compact = store.maintenance(T0 + 400 * D, vacuum=True)  # houqin storage compact
    assert compact.size_after < report.size_before / 4
    assert len(store.series()) == 7
    store.write([Reading(T0 + 400 * D, "d0", "temperature", 1.0)])  # and it goes on taking readings
    assert store.query("d0", "temperature", T0 + 400 * D, T0 + 401 * D)[0].value == 1.0
    store.close()


def test_default_retention_keeps_raw_90_days_5m_two_years_hourly_forever() -> None:
    r = Retention()
    assert (r.raw, r.rollup_5m, r.rollup_1h) == (90 * D, 730 * D, None)


@pytest.mark.parametrize(
    ("table", "match"),
    [({"raw": "3 months"}, r'storage\.retention\.raw = "3 months".*"90d"'),
     ({"raw": "800d"}, "rollup_5m .* is shorter than raw"),
     ({"rollup_1h": "30d"}, "rollup_1h .* is shorter than rollup_5m"),
     ({"raw": "2h"}, "shorter than a day")],
)
def test_retention_config_errors_name_key_and_fix(table: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config({"site": {"id": "kg"}, "storage": {"retention": table}})


def test_retention_config_parses() -> None:
    cfg = parse_config({"site": {"id": "kg"}, "storage": {"retention": {"raw": "30d", "rollup_5m": "52w"}}})
    assert cfg.storage.retention.retention() == Retention(raw=30 * D, rollup_5m=364 * D, rollup_1h=None)


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "houqin.toml"
    path.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return path


def test_cli_compact_applies_retention_and_prints_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, '[storage.retention]\nraw = "1d"\n')
    with SqliteStore(tmp_path / "data" / TIMESERIES_DB_NAME) as store:
        store.write([Reading(T0 + 60 * i, "f", "temperature", 4.0) for i in range(5000)])
    assert main(["--lang", "en", "storage", "compact", "--config", str(cfg)]) == 0
    out, err = capsys.readouterr()
    assert "deleted: 5000 raw row(s)" in out
    assert "MB before" in out and "MB after" in out
    assert "raw: day 1/" in err  # progress
    with SqliteStore(tmp_path / "data" / TIMESERIES_DB_NAME) as store:
        assert store.query("f", "temperature", T0, T0 + 10 * D) == []
        assert store.aggregate("f", "temperature", T0, T0 + 10 * D, 10 * D, "count")[0].value == 5000


def test_cli_compact_without_a_database_or_with_influxdb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "storage", "compact", "--config", str(_config(tmp_path))]) == 1
    assert "no time-series database" in capsys.readouterr().err
    assert not (tmp_path / "data" / TIMESERIES_DB_NAME).exists()
    influx = _config(tmp_path, "").read_text().replace('[storage]\n', '[storage]\ntimeseries = "influxdb"\n')
    (tmp_path / "influx.toml").write_text(influx)
    code = main(["--lang", "en", "storage", "compact", "--config", str(tmp_path / "influx.toml")])
    err = capsys.readouterr().err
    assert code == 1
    assert "only applies to the SQLite store" in err or "influxdb" in err


def test_cli_storage_without_subcommand_shows_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "storage"]) == 2
    assert "compact" in capsys.readouterr().err


def free_pages(store: SqliteStore, pragma: str = "freelist_count") -> int:
    conn = sqlite3.connect(store.path)
    try:
        return int(conn.execute(f"PRAGMA {pragma}").fetchone()[0])
    finally:
        conn.close()


def page_count(store: SqliteStore) -> int:
    return free_pages(store, "page_count")


def test_nightly_run_keeps_a_small_freelist_for_reuse_and_compact_returns_it(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db", retention=Retention(raw=9 * D))
    store.write([Reading(T0 + 300 * i, f"m{d}", "usage_l", 1.0) for i in range(10 * 288) for d in range(10)])
    pages = page_count(store)
    nightly = store.maintenance(T0 + 10 * D)  # one day of ten past retention
    assert nightly.deleted_raw == 288 * 10
    kept_free = free_pages(store)
    assert kept_free > 0
    assert page_count(store) == pages  # freed pages stay in the file for tomorrow's writes
    compact = store.maintenance(T0 + 10 * D, vacuum=True)
    assert compact.deleted_raw == 0
    assert free_pages(store) == 0
    page_size = free_pages(store, "page_size")
    assert compact.size_after <= compact.size_before - kept_free * page_size
    store.close()
