"""deploy/install.sh in staging mode (--root): the files it writes, and a second run that changes nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "install.sh"
HOUQIN = Path(sys.executable).with_name("houqin")


def install(root: Path, *, venv: bool = False) -> str:
    args = [] if venv else ["--skip-venv", "--houqin", str(HOUQIN)]
    r = subprocess.run([str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True,
                       timeout=600 if venv else 120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def booted(root: Path) -> Path:
    """Make the staged machine one whose PID 1 is systemd (what sd_booted() looks for)."""
    (root / "run/systemd/system").mkdir(parents=True)
    return root


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every path under root: (mode, sha256 of the content or the link target)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            what = "-> " + os.readlink(p)
        elif p.is_file():
            what = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            what = "dir"
        out[str(p.relative_to(root))] = (oct(st.st_mode), what)
    return out


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (scripts/test installs it)")
def test_shellcheck_clean() -> None:
    r = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout


def test_staging_writes_every_file_under_root(tmp_path: Path) -> None:
    root = booted(tmp_path / "root")
    out = install(root)
    files = snapshot(root)
    for path, mode in [("etc/houqin", 0o750), ("etc/houqin/houqin.toml", 0o640), ("var/lib/houqin", 0o750),
                       ("etc/houqin/gate.key", 0o640), ("etc/houqin/id.key", 0o640),
                       ("etc/mosquitto/houqin/credentials.json", 0o600), ("etc/mosquitto/houqin/ca.key", 0o600),
                       ("etc/systemd/system/houqin.service", 0o644),
                       ("etc/systemd/system/houqin-sensors.service", 0o644),
                       ("etc/systemd/journald.conf.d/houqin.conf", 0o644),
                       ("etc/systemd/system/systemd-time-wait-sync.service.d/houqin.conf", 0o644)]:
        assert path in files, path
        assert int(files[path][0], 8) & 0o777 == mode, path
    assert files["etc/mosquitto/conf.d/houqin.conf"][1] == "-> /etc/mosquitto/houqin/houqin.conf"
    for unit in ("houqin.service", "houqin-sensors.service"):
        assert (root / "etc/systemd/system" / unit).read_bytes() == (REPO / "deploy/systemd" / unit).read_bytes()
    assert "SystemMaxUse=" in (root / "etc/systemd/journald.conf.d/houqin.conf").read_text()
    # the units wait for NTP, but not for ever: a Pi booted without internet still starts the gate's agent
    assert "TimeoutStartSec=3min" in (root / "etc/systemd/system/systemd-time-wait-sync.service.d/houqin.conf"
                                      ).read_text()
    # the gateway's login went into the fresh config's url
    config = (root / "etc/houqin/houqin.toml").read_text()
    assert "@127.0.0.1:1883" in config and 'url = "mqtt://127.0.0.1:1883"' not in config
    # ... the agent's own login into agent_url, and the gate command key the gateway and the agent share
    assert 'agent_url = "mqtt://houqin-agent-local:' in config
    assert 'command_key_file = "/etc/houqin/gate.key"' in config
    assert "would run: chown root:houqin /etc/houqin/gate.key" in out
    # nothing outside the root, nothing run: only said
    for said in ("would run: useradd", "would run: systemctl enable mosquitto.service houqin.service",
                 "would run: systemctl restart houqin.service houqin-sensors.service", "would run: houqin doctor"):
        assert said in out
    assert "systemd is not running" not in out
    assert "Dashboard: http://" in out


def test_second_run_changes_nothing_and_keeps_the_config(tmp_path: Path) -> None:
    root = tmp_path / "root"
    install(root)
    config = root / "etc/houqin/houqin.toml"
    config.write_text(config.read_text().replace('name = "阳光幼儿园"', 'name = "我们的幼儿园"'))
    before = snapshot(root)
    out = install(root)
    assert snapshot(root) == before
    assert "nothing changed" in out, out
    assert "/etc/houqin/houqin.toml: kept" in out
    assert "我们的幼儿园" in config.read_text()


def test_without_systemd_it_enables_the_units_and_says_what_to_start_by_hand(tmp_path: Path) -> None:
    # a container or chroot: systemctl enable works (links), start and restart cannot
    out = install(tmp_path / "root")
    assert "would run: systemctl enable mosquitto.service houqin.service houqin-sensors.service" in out
    assert "would run: systemctl restart" not in out and "would run: systemctl daemon-reload" not in out
    assert "systemd is not running here" in out
    assert "Skipped: systemctl restart houqin.service houqin-sensors.service" in out
    # the units' own ExecStart, User, WorkingDirectory and Environment
    assert ("cd /var/lib/houqin && runuser -u houqin -- env HOUQIN_CONFIG=/etc/houqin/houqin.toml MALLOC_ARENA_MAX=2 "
            "/opt/houqin/venv/bin/houqin run --config /etc/houqin/houqin.toml &") in out
    assert "runuser -u houqin -- env HOUQIN_CONFIG=/etc/houqin/houqin.toml /opt/houqin/venv/bin/houqin sensors" in out
    assert "mosquitto -d -c /etc/mosquitto/mosquitto.conf" in out


def test_the_fresh_config_starts_the_gateway(tmp_path: Path) -> None:
    """The example keeps visitors' ID numbers encrypted: the install makes the key and points the config at it."""
    root = tmp_path / "root"
    install(root)
    key = (root / "etc/houqin/id.key").read_text().strip()
    assert len(bytes.fromhex(key)) == 32
    # the staged config, its absolute paths moved under the staging root
    text = (root / "etc/houqin/houqin.toml").read_text()
    assert 'id_key_file = "/etc/houqin/id.key"' in text
    config = tmp_path / "houqin.toml"
    config.write_text(text.replace('"/etc/houqin/', f'"{root}/etc/houqin/').replace('"/var/lib/houqin',
                                                                                    f'"{root}/var/lib/houqin'))
    env = {k: v for k, v in os.environ.items() if k != "HOUQIN_ID_KEY"}
    r = subprocess.run([str(HOUQIN), "check-config", str(config)], capture_output=True, text=True, timeout=60,
                       env=env)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stdout + r.stderr


def test_the_venv_runs_for_the_houqin_user_and_a_second_install_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = install(root, venv=True)
    assert "changed: houqin (new) -> " in out
    venv = root / "opt/houqin/venv"
    # Debian's interpreter (python3-venv's), not the first python3 on root's PATH (a pyenv under /root, mode
    # 0700, leaves the service's user with "Permission denied")
    assert "home = /usr/bin\n" in (venv / "pyvenv.cfg").read_text()
    python = Path(os.path.realpath(venv / "bin/python3"))
    for parent in python.parents:
        assert parent.stat().st_mode & 0o001, parent
    assert python.stat().st_mode & 0o005 == 0o005
    again = install(root, venv=True)
    assert "houqin 0.1.0: up to date" in again or ": up to date (the same files" in again, again
    assert "nothing changed" in again, again
