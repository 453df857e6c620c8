"""The nightly backup as a gateway component: writes ``[backup] dir`` once a night, alerts when it cannot.

The folder is never created here: on a Pi it is a USB stick's mount point, and a missing folder means the
stick is out (writing there would fill the SD card instead), which is worth an alert.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway.alerts.store import OpenRequest
from gateway.backup.settings import BackupSettings
from gateway.backup.snapshot import Backup, Secret, latest, make_backup, prune
from gateway.clock import Clock
from gateway.secret_files import APPROVAL_LINK_KEY, DEVICE_COOKIE_KEY
from gateway.ticker import Ticker

if TYPE_CHECKING:
    from gateway.config import Config
from gateway.signing import KEY_NAME, key_path

log = logging.getLogger(__name__)

RULE = "backup_failed"
DEVICE = "backup"
#: After a failure, the next try waits this long (a missing stick is not retried every minute).
RETRY_S = 3600.0


class AlertSink(Protocol):
    """The part of ``gateway.alerts.service.AlertService`` used here."""

    def raise_alert(self, req: OpenRequest) -> Any:
        """Open the alert of (rule, device) unless it is open."""
        ...

    def end(self, rule: str, device: str, value: float | None = None) -> Any:
        """The condition of (rule, device) ended."""
        ...


def secrets_of(config: Config) -> list[Secret]:
    """The files besides the databases the gateway needs: the key files in the data directory (approval
    links, dashboard device cookies), the visitors' ID key file when configured, and the gate command key (a
    restored gateway with a new key would be refused by every agent until the key is copied again)."""
    out = [Secret(name, config.storage.path / name) for name in (APPROVAL_LINK_KEY, DEVICE_COOKIE_KEY)
           if (config.storage.path / name).exists()]
    if config.gate.id_key_file:
        path = Path(config.gate.id_key_file)
        out.append(Secret(path.name, path))
    gate_key = key_path(config.gate.command_key_file, config.storage.path)
    if gate_key.exists():
        out.append(Secret(KEY_NAME if not config.gate.id_key_file or Path(config.gate.id_key_file).name != KEY_NAME
                          else "gate-command.key", gate_key))
    return out


class NightlyBackup:
    """Writes a backup once a night on ``tick()`` and keeps the last ``keep``; ``start()`` ticks in a thread."""

    def __init__(self, config: Config, clock: Clock, tz: tzinfo, alerts: AlertSink | None, *,
                 every: float = 60.0) -> None:
        self.config = config
        self.settings: BackupSettings = config.backup
        self.clock = clock
        self.tz = tz
        self.alerts = alerts
        self._failed_at: float | None = None
        self._ticker = Ticker(self.tick, every, "houqin-backup", join_timeout=120)

    @property
    def target(self) -> Path:
        """The configured folder."""
        return Path(self.settings.dir)

    def due(self, now: float) -> bool:
        """Past today's backup time, no backup since, and no failure within the last hour."""
        local = datetime.fromtimestamp(now, self.tz)
        at = datetime.combine(local.date(), self.settings.at, tzinfo=self.tz).timestamp()
        if now < at or (self._failed_at is not None and now - self._failed_at < RETRY_S):
            return False
        last = latest(self.target) if self.target.is_dir() else None
        return last is None or last.created < at

    def tick(self, now: float | None = None) -> Backup | None:
        """Back up when due; never raises (a failure is an alert and is retried later)."""
        t = self.clock.now() if now is None else now
        try:
            if not self.due(t):
                return None
            if not self.target.is_dir():
                raise FileNotFoundError(f"the backup folder {self.target} is missing (USB stick not plugged in or "
                                        "not mounted?)")
            backup = make_backup(self.config.storage.path, self.target, secrets=secrets_of(self.config), now=t,
                                 site=self.config.site.id)
            prune(self.target, self.settings.keep)
        except Exception as e:
            self._failed_at = t
            log.error("nightly backup to %s failed: %s", self.target, e)
            self._alert(t, str(e))
            return None
        self._failed_at = None
        log.info("nightly backup written: %s (%s)", backup.path, ", ".join(backup.databases))
        if self.alerts is not None:
            self.alerts.end(RULE, DEVICE)
        return backup

    def _alert(self, now: float, detail: str) -> None:
        if self.alerts is None:
            return
        try:
            self.alerts.raise_alert(OpenRequest(rule=RULE, device=DEVICE, kind=RULE, severity="major",
                                                chain=self.settings.alert_chain, metric=None, value=None,
                                                detail=detail, since=now))
        except Exception:
            log.exception("could not raise the backup alert")

    def start(self) -> None:
        """Start ticking in a thread."""
        self._ticker.start()

    def stop(self) -> None:
        """Stop ticking (waits for a backup in progress)."""
        self._ticker.stop()

