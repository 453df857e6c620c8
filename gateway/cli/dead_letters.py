"""``houqin dead-letters``: messages ingest refused, with the reason and an excerpt."""

from __future__ import annotations

import argparse
import json
import sys
import time

from gateway.cli.common import add_config_option, config_from_args, open_events_db, since_from_args
from gateway.cli.query import local_time
from gateway.clock import SystemClock
from gateway.deadletters import DeadLetters


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("dead-letters", help="show refused messages and why")
    add_config_option(p)
    p.add_argument("--since", default="1h", help="how far back, e.g. 30m, 1h, 7d (default 1h)")
    p.add_argument("--limit", type=int, default=1000, help="at most this many, the most recent (default 1000)")
    p.add_argument("--json", action="store_true", help='one JSON object per line: {"ts","topic","reason","excerpt"}')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the dead letters, then (for people) the count per reason."""
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    back = since_from_args(args)
    if back is None:
        return 2
    since = time.time() - back
    db = open_events_db(cfg, args)
    if db is None:
        return 1
    try:
        dl = DeadLetters(db, SystemClock())
        letters = dl.recent(since, args.limit)
        counts = dl.stored_counts(since)
    finally:
        db.close()
    if args.json:
        for d in letters:
            print(json.dumps({"ts": d.ts, "topic": d.topic, "reason": d.reason, "excerpt": d.excerpt},
                             ensure_ascii=False))
        return 0
    if not letters:
        print(f"no refused messages in the last {args.since}", file=sys.stderr)
        return 0
    tz = cfg.site.tz
    for d in letters:
        print(f"{local_time(d.ts, tz)}  {d.reason:<20} {d.topic}")
        if d.detail:
            print(f"    {d.detail}")
        print(f"    {d.excerpt!r}")
    print("per reason: " + ", ".join(f"{r} {n}" for r, n in sorted(counts.items(), key=lambda x: -x[1])))
    return 0
