"""``houqin sensors``: run the sensor agent (DS18B20, pulse meters, gate I/O, card readers) on this Pi."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args
from gateway.cli.signals import stop_on_signals
from gateway.config import Config
from gateway.errors import ConfigError, HouqinError
from gateway.file_modes import private_umask

if TYPE_CHECKING:
    from sensors.agent import AgentSettings

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("sensors", help="run the sensor agent: read the [[sensors]] hardware, publish over MQTT")
    add_config_option(p)
    p.add_argument("--state-dir", type=Path, default=None,
                   help="where pulse totals and the offline spool live (default: [storage] dir/agent)")
    p.add_argument("--agent-id", default=None,
                   help="name of this agent on the broker (default: agent-<hostname>)")
    p.add_argument("--spool-max", type=_positive_int, default=100_000,
                   help="most messages kept on disk while the broker is away (default 100000)")
    p.add_argument("--check", action="store_true",
                   help="open the hardware, report problems (pins, 1-Wire probes) and exit")
    p.add_argument("--pin-factory", default=None, metavar="NAME",
                   help="gpiozero pin library: lgpio, rpigpio, pigpio, native or mock (default: "
                        "$GPIOZERO_PIN_FACTORY or gpiozero's choice)")
    p.add_argument("--simulate", type=float, default=None, metavar="SPEED",
                   help="read the simulated kindergarten instead of hardware, SPEED times real time (with no "
                        "[[sensors]] in the config, the simulated site's wiring is used)")
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} must be at least 1")
    return n


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/Ctrl-C; exit 1 on a configuration or hardware error."""
    from sensors.agent import Agent

    private_umask()  # the spool and the card cache are the agent's user's alone
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    if args.pin_factory:
        # gpiozero reads this when the first pin is opened, so it selects the library like the env var
        os.environ["GPIOZERO_PIN_FACTORY"] = args.pin_factory
    if args.simulate is not None:
        return _run_simulated(args, cfg)
    if not cfg.sensors:
        print(f"no [[sensors]] in {args.config or 'the config'}: nothing to read; see docs/wiring.md",
              file=sys.stderr)
        return 1
    settings = _settings(args, cfg)
    try:
        agent = Agent(cfg, settings)
    except (HouqinError, OSError, sqlite3.Error) as e:
        _cannot_start(e, settings)
        return 1
    if args.check:
        problems = agent.problems()
        agent.stop()
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print("ok: hardware opened" if not problems else f"{len(problems)} problem(s)",
              file=sys.stderr if problems else sys.stdout)
        return 1 if problems else 0
    with stop_on_signals() as done:
        runner = threading.Thread(target=agent.run, name="agent", daemon=True)
        runner.start()
        print(f"sensor agent {settings.agent_id} running for site {cfg.site.id!r}: {len(cfg.sensors)} sensor "
              f"entr{'y' if len(cfg.sensors) == 1 else 'ies'}, state in {settings.state_dir}", flush=True)
        done.wait()
    agent.stop()
    runner.join(5)
    return 0


def _cannot_start(e: BaseException, settings: AgentSettings) -> None:
    hint = ""
    if isinstance(e, OSError | sqlite3.Error) and not isinstance(e, HouqinError):
        hint = (f"; the agent keeps pulse totals and its spool in {settings.state_dir}: make it writable for "
                "this user or pass --state-dir")
    print(f"sensor agent cannot start: {e}{hint}", file=sys.stderr)


def _settings(args: argparse.Namespace, cfg: Config) -> AgentSettings:
    from sensors.agent import AgentSettings, default_agent_id

    return AgentSettings(
        state_dir=args.state_dir or cfg.storage.path / "agent",
        agent_id=args.agent_id or default_agent_id(),
        spool_max=args.spool_max,
    )


def _run_simulated(args: argparse.Namespace, cfg: Config) -> int:
    """The agent on the simulated site's hardware, its clock moving ``--simulate`` times real time."""
    from demo.sim_backend import SimulatedHardware, with_simulated_wiring
    from demo.simulator import SimulatedSite
    from gateway.clock import ManualClock
    from sensors.agent import Agent

    if args.simulate <= 0:
        print("--simulate SPEED must be a positive number (1 is real time, 60 is a minute per second)",
              file=sys.stderr)
        return 2
    if not cfg.sensors:
        try:
            cfg = with_simulated_wiring(cfg)
        except ConfigError as e:
            print(f"cannot add the simulated site to this config: {e}", file=sys.stderr)
            return 1
    start = time.time()
    clock = ManualClock(start)
    hw = SimulatedHardware(SimulatedSite(start=start, timezone=cfg.site.timezone), clock, cfg.sensors)
    settings = _settings(args, cfg)
    try:
        agent = Agent(cfg, settings, pins=hw.pins, clock=clock, w1_reader=hw.w1_reader,
                      card_openers=hw.card_openers())
    except (HouqinError, OSError, sqlite3.Error) as e:
        _cannot_start(e, settings)
        return 1
    with stop_on_signals() as done:
        agent.start()
        print(f"sensor agent {settings.agent_id} running on the simulated site at {args.simulate:g}x for site "
              f"{cfg.site.id!r}, state in {settings.state_dir}", flush=True)
        last = time.monotonic()
        while not done.wait(0.25):
            now = time.monotonic()
            hw.advance((now - last) * args.simulate, agent.tick)
            last = now
    hw.close()
    agent.stop()
    return 0
