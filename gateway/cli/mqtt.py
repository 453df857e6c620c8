"""``houqin mqtt setup|add-device|rotate|remove``: the site's Mosquitto users, ACL, CA and listeners."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args
from gateway.config import Config
from gateway.errors import ConfigError
from gateway.mosquitto import DEFAULT_DIR, DEFAULT_PID_FILE
from gateway.mosquitto.credentials import FILE_NAME, Credentials
from sensors.config import sensor_devices

if TYPE_CHECKING:
    from gateway.mosquitto import site


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command and its four actions."""
    p = sub.add_parser("mqtt", help="set up the site's Mosquitto: users, ACL, TLS, listeners")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    s = actions.add_parser("setup", help="write every broker file from the config (reruns keep passwords)")
    _common(s)
    s.add_argument("--host", action="append", default=[], metavar="NAME",
                   help="a host name or address the Pi is reached by (repeat; default: its own names and addresses)")
    s.add_argument("--port", type=int, default=1883, help="loopback listener for the gateway and agent (1883)")
    s.add_argument("--tls-port", type=int, default=8883, help="TLS listener for devices on the LAN (8883)")
    s.add_argument("--lan-plain-port", type=int, default=None, metavar="PORT",
                   help="also a plain password listener on the LAN, for devices that cannot do TLS (off)")
    s.set_defaults(func=_setup)

    a = actions.add_parser("add-device", help="give a device of the config its own login (again after remove)")
    _common(a)
    a.add_argument("device", help="the device id from [[devices]]")
    a.set_defaults(func=_add)

    r = actions.add_parser("rotate", help="a new password for a device, the agent or the gateway")
    _common(r)
    r.add_argument("who", help="a device id, 'gateway', 'homeassistant' or the agent id ('local')")
    r.set_defaults(func=_rotate)

    m = actions.add_parser("remove", help="take a device's login and topics away")
    _common(m)
    m.add_argument("device", help="the device id")
    m.set_defaults(func=_remove)


def _common(p: argparse.ArgumentParser) -> None:
    add_config_option(p)
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"the broker files' folder ({DEFAULT_DIR})")
    p.add_argument("--pid-file", type=Path, default=DEFAULT_PID_FILE,
                   help="the running broker's pid file, to make it reload (default: Debian's)")


def _agent_devices(cfg: Config) -> list[str]:
    return [d for s in cfg.sensors for d in sensor_devices(s)]


def _run_setup(cfg: Config, args: argparse.Namespace, only_new: set[str] | None = None) -> site.SetupResult:
    from gateway.mosquitto import site, tls
    previous = _previous_listeners(args.dir)
    return site.setup(
        cfg, args.dir, agent_devices=_agent_devices(cfg), hosts=getattr(args, "host", None) or tls.default_hosts(),
        listeners=site.Listeners(local=getattr(args, "port", previous.local),
                                 tls=getattr(args, "tls_port", previous.tls),
                                 lan_plain=getattr(args, "lan_plain_port", previous.lan_plain)),
        only_new=only_new,
    )


def _previous_listeners(dir: Path) -> site.Listeners:
    """The ports of the last setup, so add-device and remove keep them."""
    from gateway.mosquitto import site
    ports: list[int] = []
    try:
        for line in (dir / "houqin.conf").read_text(encoding="utf-8").splitlines():
            if line.startswith("listener "):
                ports.append(int(line.split()[1]))
    except (FileNotFoundError, ValueError):
        return site.Listeners()
    return site.Listeners(local=ports[0], tls=ports[1], lan_plain=ports[2] if len(ports) > 2 else None) \
        if len(ports) >= 2 else site.Listeners()


def _reload(args: argparse.Namespace) -> None:
    from gateway.mosquitto import site
    if site.reload_broker(args.pid_file):
        print("the broker reloaded its users and ACL (connected clients stay connected)")
    else:
        print(f"the broker is not running (no pid in {args.pid_file}); start it, or reload it with: "
              "systemctl reload mosquitto")


def _setup(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    try:
        result = _run_setup(cfg, args)
    except (ConfigError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{result.dir}: {len(result.clients)} client(s); "
          + (f"changed: {', '.join(result.changed)}" if result.changed else "nothing changed"))
    print(f"logins are in {result.dir / FILE_NAME} (root only); include {result.dir / 'houqin.conf'} from "
          "mosquitto.conf (the install script links it into /etc/mosquitto/conf.d)")
    if args.lan_plain_port is not None:
        print(f"warning: port {args.lan_plain_port} takes passwords in clear text on the LAN; use it only for "
              "devices that cannot do TLS", file=sys.stderr)
    if result.changed:
        _reload(args)
    return 0


def _add(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    if cfg.device(args.device) is None:
        print(f"error: {args.device!r} is not in [[devices]] of the config; add it there first", file=sys.stderr)
        return 1
    result = _run_setup(cfg, args, only_new={args.device})
    login = result.credentials.devices.get(args.device)
    if login is None:
        print(f"{args.device!r} is read by the sensor agent; it uses the agent's login")
    else:
        print(f"{args.device}: user {login.username!r}, password in {result.dir / FILE_NAME}")
    _reload(args)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from gateway.mosquitto import site
    try:
        login = site.rotate(args.dir, args.who)
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 1
    print(f"{args.who}: new password for user {login.username!r} in {args.dir / FILE_NAME}; give it to the "
          "device" + (" (and to the gateway's [mqtt] url)" if args.who == "gateway" else ""))
    _reload(args)
    return 0


def _remove(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    path = args.dir / FILE_NAME
    creds = Credentials.load(path)
    if args.device not in creds.devices:
        print(f"error: {args.device!r} has no login in {path}", file=sys.stderr)
        return 1
    creds.revoked = sorted({*creds.revoked, args.device})
    from gateway.mosquitto.files import write_if_changed

    write_if_changed(path, creds.to_json(), 0o600)
    _run_setup(cfg, args)
    print(f"{args.device}: login and topics removed (`houqin mqtt add-device {args.device}` gives them back)")
    _reload(args)
    return 0
