"""``houqin district``: the district service (``serve``, the default), its users (``user``), and the central broker
(``mqtt-setup``: a login per site, its own prefix only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.user import add_actions, run_action
from gateway.clock import SystemClock
from gateway.errors import ConfigError, HouqinError
from gateway.mosquitto import DEFAULT_PID_FILE

if TYPE_CHECKING:
    from dashboard.accounts import Accounts
    from dashboard.sessions import Sessions
    from gateway.district_settings import DistrictSettings
    from gateway.eventsdb import EventsDB

#: The district service's roles (``district.roles.ROLES``; spelled here so that ``--help`` loads no web stack).
DISTRICT_ROLES = ("district-admin", "viewer")

#: Where the central broker's files go by default (the same place as a site's: one broker per machine).
DEFAULT_DIR = Path("/etc/mosquitto/houqin-district")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command and its action."""
    p = sub.add_parser("district", help="the district service (every site on one screen), its users, and the "
                                         "central broker's set-up",
                       description="houqin district --config district.toml serves the district's pages; "
                                   "create the first user with: houqin district user add NAME --role district-admin "
                                   "--config district.toml")
    p.add_argument("--config", type=Path, help="district.toml (serve)")
    p.set_defaults(func=_serve_default)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    serve = actions.add_parser("serve", help="serve the district's pages from the central broker and store (default)")
    serve.add_argument("--config", type=Path, required=True, help="district.toml")
    serve.set_defaults(func=_serve)
    users = actions.add_parser("user", help="the district service's users (there is no default account)")
    user_actions = users.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add_actions(user_actions, DISTRICT_ROLES, _user, "houqin district user list")
    for child in user_actions.choices.values():
        child.add_argument("--config", type=Path, required=True, help="district.toml")
    summ = actions.add_parser("summary", help="print the weekly district summary (and send it with --send)",
                              description="Builds the summary from the central store, the district's alert log and the "
                                          "sites' retained status and open alerts on the central broker.")
    summ.add_argument("--config", type=Path, required=True, help="district.toml")
    summ.add_argument("--week", help="the week, e.g. 2026-W45 (default: the last full week)")
    summ.add_argument("--send", action="store_true", help="also send it to [summary] channels and note it as sent")
    summ.add_argument("--lang", choices=("zh-CN", "en"), help="language (default: district.toml's locale)")
    summ.set_defaults(func=_summary)
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


def _load(path: Path) -> DistrictSettings | None:
    from gateway.district_settings import load_district
    try:
        return load_district(path)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return None


def _serve_default(args: argparse.Namespace) -> int:
    if args.config is None:
        print("error: give the district's settings: houqin district --config district.toml", file=sys.stderr)
        return 2
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from district.service import DistrictService
    from gateway.cli.signals import stop_on_signals
    from gateway.gc_tuning import settle_after_start

    settings = _load(args.config)
    if settings is None:
        return 1
    with stop_on_signals() as stop:
        try:
            service = DistrictService(settings)
            service.start()
        except (HouqinError, OSError) as e:
            print(f"cannot start: {e}", file=sys.stderr)
            return 1
        settle_after_start()
        print(f"houqin district service for {settings.name}: {len(settings.sites)} site(s), {service.url}, broker "
              f"{settings.broker.host}:{settings.broker.port}; Ctrl-C to stop", file=sys.stderr, flush=True)
        try:
            stop.wait()
        finally:
            service.stop()
    return 0


def _summary(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from district.alert_log import DB_NAME as ALERTS_DB
    from district.alert_log import AlertLog
    from district.app import DistrictView
    from district.board import SiteBoard
    from district.central_store import open_store
    from district.service import open_db, read_retained
    from district.summary import DistrictSummary
    from gateway.i18n import tr
    from gateway.notify.send import nobody_reached, send_now
    from gateway.reports.weekly import last_full_week, parse_week

    settings = _load(args.config)
    if settings is None:
        return 1
    lang = args.lang or settings.locale
    try:
        week = parse_week(args.week, ZoneInfo(settings.timezone)) if args.week else None
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.send and not settings.summary.channels:
        print(tr(lang, "no [summary] channels in district.toml; nothing sent"), file=sys.stderr)
        return 2
    clock = SystemClock()
    board = SiteBoard(clock.now)
    try:
        read_retained(settings, board)
    except HouqinError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    store = open_store(settings.store) if settings.store is not None else None
    db = open_db(settings)
    alerts = AlertLog(Path(settings.data_dir) / ALERTS_DB)
    try:
        summary = DistrictSummary(DistrictView(settings, board, store, clock, alerts), db)
        w = week or last_full_week(clock.now(), ZoneInfo(settings.timezone))
        message = summary.message(w, lang)
        print(message.text)
        if not args.send:
            return 0
        results = send_now(summary.channels, settings.summary.channels, message)
        for name, err in results.items():
            print(tr(lang, "{channel}: sent", channel=name) if err is None
                  else tr(lang, "{channel}: FAILED: {error}", channel=name, error=err), file=sys.stderr)
        if nobody_reached(results):
            return 3
        summary.record(w, results)  # the scheduled send skips this week
        return 0
    finally:
        alerts.close()
        db.close()
        if store is not None:
            store.close()


def _open_users(settings: DistrictSettings) -> tuple[EventsDB, Accounts, Sessions]:
    from dashboard.accounts import Accounts
    from dashboard.sessions import Sessions
    from district import roles
    from district.service import open_db

    db = open_db(settings)
    return (db, Accounts(db, roles=roles.ROLES, admin_role=roles.ADMIN),
            Sessions(db, SystemClock(), settings.web.idle_seconds, settings.web.max_seconds))


def _user(args: argparse.Namespace, action: str) -> int:
    settings = _load(args.config)
    if settings is None:
        return run_action(args, action, None)
    try:
        opened = _open_users(settings)
    except OSError as e:
        print(f"data_dir = {settings.data_dir!r}: cannot be used ({e})", file=sys.stderr)
        return 1
    return run_action(args, action, opened)
