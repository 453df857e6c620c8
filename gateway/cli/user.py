"""``houqin user``: dashboard accounts — add (the first admin), list, passwd, role, disable, enable."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from dashboard.roles import ROLES
from gateway.cli.common import add_config_option, config_from_args
from gateway.cli.lang import cli_locale, pad, say
from gateway.clock import SystemClock
from gateway.errors import HouqinError

if TYPE_CHECKING:
    from dashboard.accounts import Accounts
    from dashboard.sessions import Sessions
    from gateway.eventsdb import EventsDB


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command and its subcommands."""
    p = sub.add_parser("user", help="manage dashboard users (there is no default account)",
                       description="Manage dashboard users. Create the first admin with: houqin user add NAME "
                                   "--role admin")
    users = p.add_subparsers(dest="user_command", metavar="ACTION")
    add_actions(users, ROLES, _run, "houqin user list")
    for child in users.choices.values():
        add_config_option(child)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def add_actions(users: argparse._SubParsersAction[argparse.ArgumentParser], roles: Sequence[str],
                run: Callable[[argparse.Namespace, str], int], list_command: str) -> None:
    """The user actions (add, list, passwd, role, disable, enable) for ``roles``; ``run(args, action)`` does them
    (the site's ``houqin user`` and the district's ``houqin district user``)."""
    add = users.add_parser("add", help="create a user (password from a prompt, or stdin with --password-stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--display-name", default="", help="name shown on screen (e.g. 王师傅)")
    add.add_argument("--locale", choices=("zh-CN", "en"), default=None, help="language (default: the config's)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    ls = users.add_parser("list", help="list users")
    pw = users.add_parser("passwd", help="set a user's password (ends their sessions)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    role = users.add_parser("role", help="change a user's role (ends their sessions)")
    role.add_argument("name")
    role.add_argument("role", choices=roles)
    parsers = {"add": add, "list": ls, "passwd": pw, "role": role}
    for action in ("disable", "enable"):
        extra = " (ends their sessions)" if action == "disable" else ""
        parsers[action] = users.add_parser(action, help=f"{action} a user{extra}")
        parsers[action].add_argument("name")
    for action, parser in parsers.items():
        parser.set_defaults(func=_bound(run, action), list_command=list_command)


def _bound(run: Callable[[argparse.Namespace, str], int], action: str) -> Callable[[argparse.Namespace], int]:
    return lambda args: run(args, action)


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        print(say(args, "no terminal to prompt for the password; pass --password-stdin and pipe it in"),
              file=sys.stderr)
        return None
    first = getpass.getpass(say(args, "password: "))
    second = getpass.getpass(say(args, "again: "))
    if first != second:
        print(say(args, "the two passwords differ; nothing changed"), file=sys.stderr)
        return None
    return first


def _open(args: argparse.Namespace) -> tuple[EventsDB, Accounts, Sessions] | None:
    from dashboard.accounts import Accounts
    from dashboard.sessions import Sessions
    from gateway.eventsdb import EVENTS_DB_NAME, EventsDB
    cfg = config_from_args(args)
    if cfg is None:
        return None
    try:
        cfg.storage.path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(say(args, "[storage] dir = {dir}: cannot be created ({error})", dir=repr(str(cfg.storage.path)),
                  error=e), file=sys.stderr)
        return None
    db = EventsDB(cfg.storage.path / EVENTS_DB_NAME)
    clock = SystemClock()
    return db, Accounts(db, clock), Sessions(db, clock, cfg.dashboard.idle_seconds, cfg.dashboard.max_seconds)


def _run(args: argparse.Namespace, action: str) -> int:
    return run_action(args, action, _open(args))


def run_action(args: argparse.Namespace, action: str, opened: tuple[EventsDB, Accounts, Sessions] | None) -> int:
    """Do one user action on ``opened`` (None: opening failed and was told; exit 1)."""
    from dashboard.accounts import AccountError
    from dashboard.routes.common import account_error
    if opened is None:
        return 1
    db, accounts, sessions = opened
    try:
        if action == "add":
            password = _read_password(args)
            if password is None:
                return 1
            user = accounts.add(args.name, args.role, password, display_name=args.display_name, locale=args.locale)
            print(say(args, "user {name} created with role {role}", name=repr(user.username),
                      role=say(args, user.role)))
        elif action == "list":
            users = accounts.list()
            if not users:
                print(say(args, "no users yet; create the first admin with: {command}",
                          command=f"{args.list_command.replace(' list', '')} add NAME --role {accounts.admin_role}"))
            for u in users:
                created = datetime.fromtimestamp(u.created_at).strftime("%Y-%m-%d")
                # the login stays: it is what the other commands take
                state = say(args, "disabled" if u.disabled else "enabled")
                print(f"{u.username:<20} {pad(say(args, u.role), 11)} {pad(state, 9)} {u.locale or '-':<6} {created}  "
                      f"{u.display_name}".rstrip())
        elif action == "passwd":
            password = _read_password(args)
            if password is None:
                return 1
            user = accounts.set_password(args.name, password)
            n = sessions.end_all(user.id)
            print(say(args, "password of {name} changed; {n} session(s) ended", name=repr(user.username), n=n))
        elif action == "role":
            user = accounts.set_role(args.name, args.role)
            n = sessions.end_all(user.id)
            print(say(args, "{name} is now {role}; {n} session(s) ended", name=repr(user.username),
                      role=say(args, user.role), n=n))
        elif action in ("disable", "enable"):
            user = accounts.set_disabled(args.name, action == "disable")
            n = sessions.end_all(user.id) if action == "disable" else 0
            print(say(args, "{name} disabled; {n} session(s) ended", name=repr(user.username), n=n)
                  if action == "disable" else say(args, "{name} enabled", name=repr(user.username)))
    except (AccountError, HouqinError) as e:
        print(say(args, "error: {error}", error=account_error(cli_locale(args), str(e))), file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0

