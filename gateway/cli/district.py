"""``houqin district mqtt-setup``: the district's central broker (a login per site, its own prefix only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.errors import ConfigError
from gateway.mosquitto import DEFAULT_PID_FILE

#: Where the central broker's files go by default (the same place as a site's: one broker per machine).
DEFAULT_DIR = Path("/etc/mosquitto/houqin-district")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command and its action."""
    p = sub.add_parser("district", help="the district's central broker: a login per site, TLS, the ACL")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = actions.add_parser("mqtt-setup", help="write the central broker's files from district.toml "
                                              "(reruns keep passwords, CA and certificate)")
    s.add_argument("--config", type=Path, required=True, help="district.toml: name and [[sites]]")
    s.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"the broker files' folder ({DEFAULT_DIR})")
    s.add_argument("--host", action="append", default=[], metavar="NAME",
                   help="a host name or address sites reach the broker by (repeat; default: this machine's)")
    s.add_argument("--tls-port", type=int, default=8883, help="TLS listener the sites connect to (8883)")
    s.add_argument("--port", type=int, default=1883, help="loopback listener for the district's services (1883)")
    s.add_argument("--pid-file", type=Path, default=DEFAULT_PID_FILE,
                   help="the running broker's pid file, to make it reload (default: Debian's)")
    s.set_defaults(func=_setup)


def _setup(args: argparse.Namespace) -> int:
    from gateway.district_settings import load_district
    from gateway.mosquitto import district, site, tls
    from gateway.mosquitto.credentials import FILE_NAME

    try:
        settings = load_district(args.config)
        result = district.setup(settings, args.dir, hosts=args.host or tls.default_hosts(),
                                listeners=district.Listeners(tls=args.tls_port, local=args.port))
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{result.dir}: {len(settings.sites)} site(s); "
          + (f"changed: {', '.join(result.changed)}" if result.changed else "nothing changed"))
    print(f"logins are in {result.dir / FILE_NAME} (root only). Give each site its login and {result.dir / 'ca.crt'} "
          "for its [uplink.broker] username, password and ca_file; include "
          f"{result.dir / 'houqin.conf'} from mosquitto.conf")
    if result.changed and site.reload_broker(args.pid_file):
        print("the broker reloaded its users and ACL")
    return 0
