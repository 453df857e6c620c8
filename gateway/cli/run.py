"""``houqin run``: the gateway service (ingest, plus every installed extension) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from gateway.cli.common import add_config_option, config_from_args
from gateway.errors import HouqinError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("run", help="run the gateway service (Ctrl-C or SIGTERM stops it cleanly)")
    add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the gateway, wait for a stop signal, stop it (what is queued is committed first)."""
    from gateway.app import build_gateway

    cfg = config_from_args(args)
    if cfg is None:
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        gw = build_gateway(cfg)
        try:
            gw.start()
        except HouqinError as e:
            print(f"cannot start: {e}", file=sys.stderr)
            return 1
        link = gw.link.settings
        broker = "embedded broker" if cfg.mqtt.embedded else "broker"
        print(f"houqin gateway for site {cfg.site.id!r}: {broker} {link.host}:{link.port}, "
              f"storage {cfg.storage.path} ({cfg.storage.timeseries}); Ctrl-C to stop", file=sys.stderr, flush=True)
        try:
            stop.wait()
        finally:
            print("stopping (committing what is queued)...", file=sys.stderr, flush=True)
            gw.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
