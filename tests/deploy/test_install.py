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


def install(root: Path) -> str:
    r = subprocess.run([str(SCRIPT), "--root", str(root), "--skip-venv", "--houqin", str(HOUQIN)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


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
    root = tmp_path / "root"
    out = install(root)
    files = snapshot(root)
    for path, mode in [("etc/houqin", 0o750), ("etc/houqin/houqin.toml", 0o640), ("var/lib/houqin", 0o750),
                       ("etc/houqin/gate.key", 0o640),
                       ("etc/mosquitto/houqin/credentials.json", 0o600), ("etc/mosquitto/houqin/ca.key", 0o600),
                       ("etc/systemd/system/houqin.service", 0o644),
                       ("etc/systemd/system/houqin-sensors.service", 0o644),
                       ("etc/systemd/journald.conf.d/houqin.conf", 0o644)]:
        assert path in files, path
        assert int(files[path][0], 8) & 0o777 == mode, path
    assert files["etc/mosquitto/conf.d/houqin.conf"][1] == "-> /etc/mosquitto/houqin/houqin.conf"
    for unit in ("houqin.service", "houqin-sensors.service"):
        assert (root / "etc/systemd/system" / unit).read_bytes() == (REPO / "deploy/systemd" / unit).read_bytes()
    assert "SystemMaxUse=" in (root / "etc/systemd/journald.conf.d/houqin.conf").read_text()
    # the gateway's login went into the fresh config's url
    config = (root / "etc/houqin/houqin.toml").read_text()
    assert "@127.0.0.1:1883" in config and 'url = "mqtt://127.0.0.1:1883"' not in config
    # ... the agent's own login into agent_url, and the gate command key the gateway and the agent share
    assert 'agent_url = "mqtt://houqin-agent-local:' in config
    assert 'command_key_file = "/etc/houqin/gate.key"' in config
    assert "would run: chown root:houqin /etc/houqin/gate.key" in out
    # nothing outside the root, nothing run: only said
    for said in ("would run: useradd", "would run: systemctl enable mosquitto.service houqin.service",
                 "would run: houqin doctor"):
        assert said in out
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
