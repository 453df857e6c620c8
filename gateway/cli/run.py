"""``houqin run``: the gateway service (every part of ``build_gateway``, and the dashboard) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import sys

from gateway import runlock
from gateway.cli.common import add_config_option, config_from_args
from gateway.cli.signals import stop_on_signals
from gateway.errors import HouqinError
from gateway.file_modes import private_umask
from gateway.gc_tuning import settle_after_start
from gateway.watchdog import Watchdog, stall_limit, watchdog_interval


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("run", help="run the gateway service (Ctrl-C or SIGTERM stops it cleanly)")
    add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the gateway, wait for a stop signal, stop it (what is queued is committed first)."""
    from dashboard.component import serve_dashboard
    from gateway.app import build_gateway

    private_umask()  # databases, keys and logs the service writes are its user's alone
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    with stop_on_signals() as stop, contextlib.ExitStack() as running:
        try:
            running.enter_context(runlock.hold(cfg.storage.path))  # `houqin restore` refuses while held
            gw = build_gateway(cfg)  # may refuse too (TLS files the link cannot load, a store it cannot open)
            serve_dashboard(gw)
            gw.start()
        except HouqinError as e:
            print(f"cannot start: {e}", file=sys.stderr)
            return 1
        settle_after_start()
        # systemd (Type=notify): READY now, then WATCHDOG pings only while ingest makes progress.
        dog = Watchdog(gw.stats, gw.clock, every=watchdog_interval(),
                       stall_after=stall_limit(cfg.storage.commit_interval))
        dog.start()
        running.callback(dog.stop)
        link = gw.link.settings
        broker = "embedded broker" if cfg.mqtt.embedded else "broker"
        print(f"houqin gateway for site {cfg.site.id!r}: {broker} {link.host}:{link.port}, "
              f"storage {cfg.storage.path} ({cfg.storage.timeseries}); Ctrl-C to stop", file=sys.stderr, flush=True)
        try:
            stop.wait()
        finally:
            print("stopping (committing what is queued)...", file=sys.stderr, flush=True)
            gw.stop()
    return 0
