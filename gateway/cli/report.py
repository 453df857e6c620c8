"""``houqin report weekly|sheet|samples``: the weekly utility report, cold-storage sheets, the sample ledger."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args, open_events_db
from gateway.cli.lang import say
from gateway.clock import SystemClock
from gateway.config import Config
from gateway.errors import HouqinError
from gateway.values import Said

if TYPE_CHECKING:
    from gateway.eventsdb import EventsDB
    from gateway.reports.service import Reports


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` with its ``weekly``, ``sheet`` and ``samples`` subcommands."""
    p = sub.add_parser("report", help="weekly utility report, cold-storage sheets, food-sample ledger")
    kinds = p.add_subparsers(dest="report", metavar="REPORT")

    w = kinds.add_parser("weekly", help="water and electricity of one week (default: last week)")
    add_config_option(w)
    w.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the last full week)")
    w.add_argument("--format", choices=("html", "csv", "md"), default="md")
    w.add_argument("--send", action="store_true", help="also send it to [reports.weekly] channels now")
    _common(w)
    w.set_defaults(func=run_weekly)

    s = kinds.add_parser("sheet", help="daily cold-storage sheet (HACCP)")
    add_config_option(s)
    g = s.add_mutually_exclusive_group()
    g.add_argument("--day", help="local date, e.g. 2026-11-19 (default: today)")
    g.add_argument("--month", help="a month of sheets, e.g. 2026-11")
    s.add_argument("--device", help="only this fridge/freezer")
    s.add_argument("--format", choices=("html", "csv"), default="csv")
    _common(s)
    s.set_defaults(func=run_sheet)

    m = kinds.add_parser("samples", help="48-hour food-sample ledger of a month")
    add_config_option(m)
    m.add_argument("--month", help="e.g. 2026-11 (default: this month)")
    m.add_argument("--format", choices=("html", "csv"), default="csv")
    _common(m)
    m.set_defaults(func=run_samples)

    def usage(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", type=Path, help="write to this file instead of standard output")


def _open(cfg: Config, args: argparse.Namespace) -> tuple[Reports, EventsDB] | None:
    from gateway.app import build_store
    from gateway.reports.service import Reports
    db = open_events_db(cfg, args)
    if db is None:
        return None
    store = build_store(cfg)
    return Reports(cfg, store, db, SystemClock()), db


def _emit(args: argparse.Namespace, text: str) -> int:
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(say(args, "wrote {path}", path=args.output), file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _month(text: str | None, today: date) -> tuple[int, int]:
    if not text:
        return today.year, today.month
    try:
        y, m = (int(x) for x in text.split("-"))
        date(y, m, 1)
    except ValueError:
        raise Said("--month {text}: write it as YYYY-MM, e.g. 2026-11", text=repr(text)) from None
    return y, m


def _run(args: argparse.Namespace, body: str) -> int:
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    opened = _open(cfg, args)
    if opened is None:
        return 1
    reports, db = opened
    try:
        if body == "weekly":
            return _weekly(args, reports)
        if body == "sheet":
            return _sheet(args, reports)
        return _samples(args, reports)
    except (ValueError, HouqinError) as e:
        error = say(args, e.msgid, **e.values) if isinstance(e, Said) else str(e)
        print(say(args, "error: {error}", error=error), file=sys.stderr)
        return 1
    finally:
        if reports.store is not None:
            reports.store.close()
        db.close()


def run_weekly(args: argparse.Namespace) -> int:
    """Print (or write) the weekly report; ``--send`` also delivers it."""
    return _run(args, "weekly")


def run_sheet(args: argparse.Namespace) -> int:
    """Print a day's or a month's cold-storage sheet."""
    return _run(args, "sheet")


def run_samples(args: argparse.Namespace) -> int:
    """Print a month's food-sample ledger."""
    return _run(args, "samples")


def _weekly(args: argparse.Namespace, reports: Reports) -> int:
    from gateway.reports.render import weekly_csv
    from gateway.reports.weekly import parse_week
    week = parse_week(args.week, reports.tz) if args.week else None
    report = reports.weekly(week, args.lang)
    r = reports.renderer(args.lang)
    if args.format == "csv":
        text = weekly_csv(report, args.lang or reports.locale)
    elif args.format == "html":
        text = r.weekly_html(report)
    else:
        text = r.weekly_markdown(report, reports.config.reports.weekly.link)
    code = _emit(args, text)
    if args.send:
        results = reports.send_weekly(report)
        if not results:
            print(say(args, "no [reports.weekly] channels configured; nothing sent"), file=sys.stderr)
        for name, err in results.items():
            print(say(args, "{channel}: sent", channel=name) if err is None
                  else say(args, "{channel}: FAILED: {error}", channel=name, error=err), file=sys.stderr)
        if any(err is not None for err in results.values()):
            return 3
    return code


def _sheet(args: argparse.Namespace, reports: Reports) -> int:
    from gateway.reports.render import sheet_csv
    r = reports.renderer(args.lang)
    lang = args.lang or reports.locale
    checks = reports.config.reports.sheet.check_labels
    if args.month:
        y, m = _month(args.month, reports.today())
        lines = reports.sheet_month(y, m, args.device)
        text = (sheet_csv(lines, reports.tz, checks, lang) if args.format == "csv"
                else r.sheet_month_html(lines, y, m, checks))
    else:
        try:
            day = date.fromisoformat(args.day) if args.day else reports.today()
        except ValueError:
            raise Said("--day {text}: write it as YYYY-MM-DD, e.g. 2026-11-19", text=repr(args.day)) from None
        lines = reports.sheet_day(day, args.device)
        text = sheet_csv(lines, reports.tz, checks, lang) if args.format == "csv" else r.sheet_html(lines, day, checks)
    if args.device and not lines:
        print(say(args, "error: {device} is not a fridge, freezer, sample fridge or cold room in the config",
                  device=repr(args.device)), file=sys.stderr)
        return 1
    return _emit(args, text)


def _samples(args: argparse.Namespace, reports: Reports) -> int:
    from gateway.reports.render import samples_csv
    y, m = _month(args.month, reports.today())
    samples, verdicts = reports.samples_month(y, m, args.lang)
    now = reports.clock.now()
    if args.format == "csv":
        return _emit(args, samples_csv(samples, verdicts, reports.tz, now, args.lang or reports.locale,
                                       dict(reports.ledger.fridges())))
    fridges = dict(reports.ledger.fridges())
    return _emit(args, reports.renderer(args.lang).samples_html(samples, verdicts, y, m, now,
                                                                reports.config.reports.samples.min_grams, fridges))
