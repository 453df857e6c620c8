"""The systemd units: `systemd-analyze verify` clean, and the settings the install promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = ("houqin.service", "houqin-sensors.service")


def settings(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's houqin instead of /opt/houqin's
    houqin = shutil.which("houqin") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "houqin")
    paths = []
    for name in UNITS:
        text = (SYSTEMD / name).read_text().replace("/opt/houqin/venv/bin/houqin", houqin)
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    r = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # unknown or misspelt keys are only warnings


@pytest.mark.parametrize("name", UNITS)
def test_units_are_hardened_and_ordered(name: str) -> None:
    s = settings(name)
    for key, value in [("ProtectSystem", "strict"), ("ReadWritePaths", "/var/lib/houqin"),
                       ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"), ("CapabilityBoundingSet", ""),
                       ("ProtectHome", "yes"), ("UMask", "0077"), ("Restart", "on-failure"), ("User", "houqin")]:
        assert s[key] == [value], key
    assert "mosquitto.service" in s["After"][0] and "time-sync.target" in s["After"][0]
    assert "systemd-time-wait-sync.service" in s["Wants"][0]
    # Wants=, never Requires=: when the (bounded) wait for NTP fails the services start anyway
    assert not any("time" in v for v in s.get("Requires", []) + s.get("Requisite", []) + s.get("BindsTo", []))


def test_gateway_has_a_watchdog_and_sensors_their_devices() -> None:
    gw = settings("houqin.service")
    assert gw["Type"] == ["notify"] and gw["WatchdogSec"] and gw["ExecStart"][0].endswith("houqin run --config "
                                                                                         "/etc/houqin/houqin.toml")
    sensors = settings("houqin-sensors.service")
    assert "/dev/gpiomem rw" in sensors["DeviceAllow"] and "char-gpiochip rw" in sensors["DeviceAllow"]
    assert "DevicePolicy" in sensors and "PrivateDevices" not in sensors


WAIT_SYNC = Path("/lib/systemd/system/systemd-time-wait-sync.service")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None or not WAIT_SYNC.exists(),
                    reason="systemd-analyze or systemd-time-wait-sync.service is not installed")
def test_the_bounded_wait_for_the_clock_verifies(tmp_path: Path) -> None:
    # verify reads the drop-in folder next to the unit, as systemd reads /etc/systemd/system/*.service.d
    shutil.copy(WAIT_SYNC, tmp_path / WAIT_SYNC.name)
    (tmp_path / f"{WAIT_SYNC.name}.d").mkdir()
    shutil.copy(SYSTEMD / "time-wait-sync-houqin.conf", tmp_path / f"{WAIT_SYNC.name}.d" / "houqin.conf")
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / WAIT_SYNC.name)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    assert "TimeoutStartSec=3min" in (SYSTEMD / "time-wait-sync-houqin.conf").read_text()
