"""Backups of real SQLite databases while a writer thread commits readings and alerts; restore; damage detected."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import runlock
from gateway.alerts.service import AlertService
from gateway.alerts.store import AlertStore, OpenRequest
from gateway.backup.restore import restore
from gateway.backup.snapshot import BackupError, Secret, backups, make_backup, prune, verify
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore

T0 = 1_790_000_000.0


class Site:
    """A storage folder with the gateway's two databases, and a writer thread like ingest's."""

    def __init__(self, storage: Path) -> None:
        self.storage = storage
        storage.mkdir(parents=True, exist_ok=True)
        self.events = EventsDB(storage / "events.db")
        self.alerts = AlertStore(self.events)
        self.store = SqliteStore(storage / "timeseries.db")
        self.committed = 0  # readings durably written so far
        self.stop = threading.Event()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        i = 0
        while not self.stop.is_set():
            self.store.write([Reading(T0 + i + k / 10, "fridge-1", "temperature", 4.0 + k) for k in range(10)])
            if i % 5 == 0:
                self.alerts.open(OpenRequest(rule=f"r{i}", device="fridge-1", kind="threshold", severity="major",
                                             chain=None, metric="temperature", value=9.0, detail="warm",
                                             since=T0 + i), T0 + i)
            i += 1
            self.committed = i * 10
            if i == 20:
                self.started.set()

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(10)
        self.store.close()
        self.events.close()


def readings(storage: Path) -> list[Reading]:
    store = SqliteStore(storage / "timeseries.db")
    try:
        return store.query("fridge-1", "temperature", 0, T0 * 2)
    finally:
        store.close()


def alert_rules(storage: Path) -> set[str]:
    db = EventsDB(storage / "events.db")
    try:
        return {a.rule for a in AlertStore(db).list()}
    finally:
        db.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path / "data")
    yield s
    s.close()


def test_backup_under_load_then_restore_has_every_reading_and_alert(site: Site, tmp_path: Path) -> None:
    site.thread.start()
    assert site.started.wait(30)
    committed_before = site.committed
    during = make_backup(site.storage, tmp_path / "usb", secrets=[], now=T0)
    site.stop.set()
    site.thread.join(10)
    assert verify(during.path) == []
    # a consistent snapshot: at least what was committed before it began, whole batches only
    restored_dir = tmp_path / "fresh-during"
    restore(during.path, restored_dir, now=T0)
    got = readings(restored_dir)
    assert len(got) >= committed_before and len(got) % 10 == 0

    final = make_backup(site.storage, tmp_path / "usb", secrets=[], now=T0 + 1)
    expected_readings, expected_alerts = readings(site.storage), alert_rules(site.storage)
    site.close()
    fresh = tmp_path / "fresh"
    done = restore(final.path, fresh, now=T0 + 2)
    assert {p.name for p, _ in done.files} == {"events.db", "timeseries.db"}
    assert readings(fresh) == expected_readings and len(expected_readings) >= committed_before
    assert alert_rules(fresh) == expected_alerts and "r0" in expected_alerts
    assert stat.S_IMODE((fresh / "events.db").stat().st_mode) == 0o600


def test_files_are_private_and_secrets_are_kept(site: Site, tmp_path: Path) -> None:
    key = tmp_path / "id.key"
    key.write_text("ab" * 32)
    b = make_backup(site.storage, tmp_path / "usb", secrets=[Secret("id.key", key)], now=T0)
    assert stat.S_IMODE(b.path.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "usb").stat().st_mode) == 0o700
    for f in b.path.rglob("*"):
        assert stat.S_IMODE(f.stat().st_mode) == (0o700 if f.is_dir() else 0o600), f
    assert (b.path / "secrets" / "id.key").read_text() == "ab" * 32
    key.write_text("cd" * 32)
    site.close()
    done = restore(b.path, site.storage, now=T0 + 5)
    assert key.read_text() == "ab" * 32
    assert done.aside is not None and (done.aside / "secrets" / "id.key").read_text() == "cd" * 32


def test_a_damaged_copy_is_detected_and_not_restored(site: Site, tmp_path: Path) -> None:
    site.store.write([Reading(T0 + i, "fridge-1", "temperature", 4.0) for i in range(2000)])
    b = make_backup(site.storage, tmp_path / "usb", secrets=[], now=T0)
    copy = b.path / "timeseries.db"
    with copy.open("r+b") as f:  # scribble over a page in the middle
        f.seek(copy.stat().st_size // 2)
        f.write(os.urandom(4096))
    problems = verify(b.path)
    assert problems and "timeseries.db" in problems[0]
    site.close()
    with pytest.raises(BackupError, match="not sound"):
        restore(b.path, tmp_path / "fresh", now=T0)
    assert not (tmp_path / "fresh" / "timeseries.db").exists()


def test_restore_refuses_while_the_gateway_runs_and_names_what_it_replaces(site: Site, tmp_path: Path) -> None:
    b = make_backup(site.storage, tmp_path / "usb", secrets=[], now=T0)
    site.close()
    with runlock.hold(site.storage), pytest.raises(BackupError, match="the gateway runs"):
        restore(b.path, site.storage, now=T0)
    done = restore(b.path, site.storage, now=T0)
    assert done.aside is not None
    replaced = {p.name: r for p, r in done.files}
    assert replaced["events.db"] == done.aside / "events.db" and (done.aside / "events.db").exists()


def test_keeps_the_last_n(site: Site, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    for i in range(4):
        make_backup(site.storage, usb, secrets=[], now=T0 + i * 86400)
    names = [p.name for p in backups(usb)]
    removed = prune(usb, 2)
    assert [p.name for p in removed] == names[:2] and [p.name for p in backups(usb)] == names[2:]
    assert all(not p.exists() for p in removed)


def test_nightly_job_alerts_when_the_stick_is_missing(site: Site, tmp_path: Path) -> None:
    from gateway.backup.job import DEVICE, RULE, NightlyBackup
    from gateway.config import Config

    usb = tmp_path / "usb"
    cfg = Config.model_validate({"site": {"id": "kg", "timezone": "UTC"},
                                 "storage": {"dir": str(site.storage)},
                                 "backup": {"dir": str(usb), "keep": 2, "time": "03:30"}})
    clock = ManualClock(1_790_000_000.0 - 1_790_000_000.0 % 86400 + 3 * 3600)  # 03:00 UTC
    service = AlertService(site.alerts, clock)
    job = NightlyBackup(cfg, clock, cfg.site.tz, service)
    assert job.tick() is None  # before 03:30
    clock.set(clock.now() + 3600)
    assert job.tick() is None  # due, but the stick is out
    open_alerts = service.list(open_only=True, rule=RULE, device=DEVICE)
    assert len(open_alerts) == 1 and "missing" in open_alerts[0].detail
    usb.mkdir()
    clock.set(clock.now() + 60)
    assert job.tick() is None  # no retry within the hour
    clock.set(clock.now() + 3600)
    written = job.tick()
    assert written is not None and verify(written.path) == []
    assert service.list(open_only=True, rule=RULE, device=DEVICE) == [] or \
        service.list(open_only=True, rule=RULE, device=DEVICE)[0].state != "active"
    clock.set(clock.now() + 600)
    assert job.tick() is None  # once a night


def test_cli_backup_and_restore(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    site.store.write([Reading(T0, "fridge-1", "temperature", 4.5)])
    config = tmp_path / "houqin.toml"
    config.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{site.storage}"\n')
    assert main(["backup", "--config", str(config), "--to", str(tmp_path / "usb"), "--keep", "3"]) == 0
    (folder,) = backups(tmp_path / "usb")
    assert "(verified)" in capsys.readouterr().out
    assert main(["backup", "--verify", str(folder)]) == 0
    site.close()
    assert main(["restore", "--config", str(config), str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"restored {site.storage / 'timeseries.db'} (replaced; the old one is" in out
    assert readings(site.storage) == [Reading(T0, "fridge-1", "temperature", 4.5)]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")
def test_a_backup_made_as_root_belongs_to_the_service_user(site: Site, tmp_path: Path) -> None:
    """`sudo houqin backup` (as the docs say): the gateway's nightly run, as the service user, must read and
    prune it later."""
    from gateway.cli import main

    service_user = 65534  # nobody: the owner of the data folder, as houqin owns /var/lib/houqin
    os.chown(site.storage, service_user, service_user)
    usb = tmp_path / "usb"
    usb.mkdir()
    os.chown(usb, service_user, service_user)
    config = tmp_path / "houqin.toml"
    config.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{site.storage}"\n')
    assert main(["backup", "--config", str(config), "--to", str(usb), "--keep", "3"]) == 0
    (folder,) = backups(usb)
    for path in (folder, *folder.rglob("*")):
        assert (path.stat().st_uid, path.stat().st_gid) == (service_user, service_user), path


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")
def test_a_restore_as_root_leaves_the_data_folder_to_the_service_user(site: Site, tmp_path: Path) -> None:
    """`sudo houqin restore` (as the docs say): the gateway, as the service user, chmods everything in its data
    folder at start; a root-owned `replaced-...` folder made it fail to start."""
    from gateway.cli import main

    service_user = 65534
    config = tmp_path / "houqin.toml"
    config.write_text(f'[site]\nid = "kg"\n[storage]\ndir = "{site.storage}"\n')
    assert main(["backup", "--config", str(config), "--to", str(tmp_path / "usb")]) == 0
    (folder,) = backups(tmp_path / "usb")
    site.close()
    for path in (site.storage, *site.storage.rglob("*")):
        os.chown(path, service_user, service_user)
    assert main(["restore", "--config", str(config), str(folder)]) == 0
    assert any(p.name.startswith("replaced-") for p in site.storage.iterdir())
    for path in (site.storage, *site.storage.rglob("*")):
        assert (path.stat().st_uid, path.stat().st_gid) == (service_user, service_user), path
