"""``houqin sensors``: run the sensor agent (DS18B20, pulse meters, gate I/O, card readers) on this Pi."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from gateway.cli.common import add_config_option, config_from_args
from gateway.errors import HouqinError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("sensors", help="run the sensor agent: read the [[sensors]] hardware, publish over MQTT")
    add_config_option(p)
    p.add_argument("--state-dir", type=Path, default=None,
                   help="where pulse totals and the offline spool live (default: [storage] dir/agent)")
    p.add_argument("--agent-id", default=None,
                   help="name of this agent on the broker (default: agent-<hostname>)")
    p.add_argument("--spool-max", type=int, default=100_000,
                   help="most messages kept on disk while the broker is away (default 100000)")
    p.add_argument("--check", action="store_true",
                   help="open the hardware, report problems (pins, 1-Wire probes) and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/Ctrl-C; exit 1 on a configuration or hardware error."""
    from sensors.agent import Agent, AgentSettings, default_agent_id

    cfg = config_from_args(args)
    if cfg is None:
        return 1
    if not cfg.sensors:
        print(f"no [[sensors]] in {args.config or 'the config'}: nothing to read; see README.md, \"Wiring\"",
              file=sys.stderr)
        return 1
    settings = AgentSettings(
        state_dir=args.state_dir or cfg.storage.path / "agent",
        agent_id=args.agent_id or default_agent_id(),
        spool_max=args.spool_max,
    )
    try:
        agent = Agent(cfg, settings)
    except (HouqinError, OSError) as e:
        print(f"sensor agent cannot start: {e}", file=sys.stderr)
        return 1
    if args.check:
        problems = agent.problems()
        agent.stop()
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print("ok: hardware opened" if not problems else f"{len(problems)} problem(s)",
              file=sys.stderr if problems else sys.stdout)
        return 1 if problems else 0
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner = threading.Thread(target=agent.run, name="agent", daemon=True)
    runner.start()
    print(f"sensor agent {settings.agent_id} running for site {cfg.site.id!r}: {len(cfg.sensors)} sensor "
          f"entr{'y' if len(cfg.sensors) == 1 else 'ies'}, state in {settings.state_dir}", flush=True)
    done.wait()
    agent.stop()
    runner.join(5)
    return 0
