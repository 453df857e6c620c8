"""``houqin demo``: a living site in one command — embedded broker, simulated sensors, SQLite store.

It writes the config it runs with to ``DIR/houqin.toml`` so every other command works on the demo
(``houqin tail --config DIR/houqin.toml``, ``houqin query ...``).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from demo.backfill import DEFAULT_DAYS, BackfillResult, backfill, leak_window
from demo.login import prepare as prepare_login
from demo.seed import seed_inspections
from demo.simulator import CLASSROOMS, SITE_DEVICES, SimulatedSite, Simulator
from demo.story import DemoStory, demo_story
from gateway.cli.signals import stop_on_signals
from gateway.config import Config, load_config
from gateway.errors import ConfigError, HouqinError
from gateway.gate.cards import CardRegistry
from gateway.values import parse_clock

DEMO_SITE_ID = "demo-kg"
DEMO_SITE_NAME = "阳光幼儿园（演示）"
DEMO_TIMEZONE = "Asia/Shanghai"
DEFAULT_MQTT_PORT = 1883
DEFAULT_DASHBOARD_PORT = 8080
DEFAULT_SPEED = 10.0
#: How often the demo prints a one-line status while it runs.
STATUS_EVERY_S = 60.0


def main(argv: Sequence[str]) -> int:
    """``houqin demo ARGS``: parse the demo's own arguments and run it (``gateway.cli`` hands them over)."""
    return run(build_parser().parse_args(argv))


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``houqin demo``'s arguments."""
    p = argparse.ArgumentParser(prog="houqin demo",
                                description="Run a living demo site in one process. Writes DIR/houqin.toml so the "
                                            "other commands work on it. Ctrl-C stops it; the data stays in DIR.")
    p.add_argument("--dir", type=Path, default=None,
                   help="where the config and data go (default: a new temporary directory)")
    p.add_argument("--mqtt-port", type=_port, default=None,
                   help=f"port of the embedded MQTT broker on 127.0.0.1 (default {DEFAULT_MQTT_PORT}, or a free "
                        "port if that is taken)")
    p.add_argument("--port", type=_port, default=None,
                   help=f"dashboard port (default {DEFAULT_DASHBOARD_PORT}, or a free port if that is taken)")
    p.add_argument("--speed", type=_speed, default=DEFAULT_SPEED,
                   help=f"simulated seconds per real second (default {DEFAULT_SPEED:g}; 1 = real time, "
                        "60 = an hour a minute)")
    p.add_argument("--start", type=_hhmm, default=None, metavar="HH:MM",
                   help="start the simulated day at this local time on the last school day (e.g. 07:30 for the "
                        "morning rush; only with --speed above 1); default: now")
    p.add_argument("--seed", type=int, default=1, help="random seed of the simulated site (default 1)")
    p.add_argument("--history", type=_days, default=DEFAULT_DAYS, metavar="DAYS",
                   help=f"first fill this many days of simulated readings (default {DEFAULT_DAYS}; 0 = none), so "
                        "charts and the weekly report have weeks to show; with a leak in the last full week. "
                        "Run again on the same --dir, only the days since the last run are filled")
    p.add_argument("--leak", action="store_true", help="simulate a slow water leak (flow all night)")
    p.add_argument("--broken-fridge", action="store_true",
                   help="break the compressor of kitchen-fridge-2: it warms up and raises an alert")
    p.add_argument("--left-on", action="store_true", help="lights and air conditioning left on after school")
    return p


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1-65535") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number; use 1-65535")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; e.g. --speed 10") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"{value:g} is out of range; use a speed above 0 and at most 100000")
    return value


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days; e.g. --history 28") from None
    if not 0 <= value <= 366:
        raise argparse.ArgumentTypeError(f"{value:g} days is out of range; use 0 (no history) to 366")
    return value


def _hhmm(text: str) -> tuple[int, int]:
    try:
        parsed = parse_clock(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return parsed.hour, parsed.minute


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be listened on now."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _toml_str(value: str) -> str:
    # JSON string escapes are valid in TOML basic strings; keep Chinese readable.
    return json.dumps(value, ensure_ascii=False)


def demo_config_text(storage_dir: Path, mqtt_port: int, dashboard_port: int, story: DemoStory | None = None) -> str:
    """The TOML config of the demo site: embedded broker, SQLite storage, the simulated devices, and the
    inspections (checklists, the classrooms' UV lamps); with ``story``, its holiday and duty roster."""
    lines = [
        "# Written by `houqin demo`: the simulated kindergarten. Every houqin command works on it:",
        "#   houqin tail --config THIS_FILE      houqin query kitchen-fridge-1 --config THIS_FILE",
        "",
        "[site]",
        f"id = {_toml_str(DEMO_SITE_ID)}",
        f"name = {_toml_str(DEMO_SITE_NAME)}",
        f"timezone = {_toml_str(DEMO_TIMEZONE)}",
        "",
        "[mqtt]",
        'url = "embedded"',
        'protocol = "3.1.1"',
        f"embedded_port = {mqtt_port}",
        "",
        "[storage]",
        f"dir = {_toml_str(str(storage_dir))}",
        'timeseries = "sqlite"',
        # A laptop, not a Pi's SD card: commit every 2 s, so charts read from the store are current.
        'commit_interval = "2s"',
        "",
    ]
    lines += ["[dashboard]", 'bind = "127.0.0.1"', f"port = {dashboard_port}", ""]
    lines += [*DEMO_REPORTS_AND_GATE.strip("\n").splitlines(), ""]
    for d in SITE_DEVICES:
        lines += [
            "[[devices]]",
            f"id = {_toml_str(d.id)}",
            f"kind = {_toml_str(d.kind)}",
            f"name = {_toml_str(d.name)}",
            f"location = {_toml_str(d.location)}",
            "",
        ]
    return "\n".join(lines) + DEMO_RULES + demo_inspections_text(story)


def demo_inspections_text(story: DemoStory | None) -> str:
    """``[calendar]`` (the story's holiday) and ``[inspections]``: the classrooms' UV lamps, a daily, a weekly
    and a closing checklist, and the holiday's duty roster."""
    from gateway.calendar import WEEKDAYS

    lines = [""]
    if story is not None:
        lines += ["[calendar]", f"holidays = [{_toml_str(f'{story.duty_days[0]}..{story.duty_days[-1]}')}]", ""]
    lines += ["[inspections.disinfection]", 'window = "18:00-24:00"', 'min_duration = "30m"', ""]
    for room, name, plug in CLASSROOMS:
        lines += ["[[inspections.disinfection.rooms]]", f"id = {_toml_str(room)}", f"name = {_toml_str(name)}",
                  f"plug = {_toml_str(plug)}", "lamp_hours_before = 310", ""]
    weekday = WEEKDAYS[story.missed_weekly.weekday()] if story is not None else "mon"
    lines += [DEMO_CHECKLISTS.strip("\n").replace("WEEKDAY", weekday), ""]
    if story is not None:
        first, *_, last = story.duty_days
        lines += ["[inspections.holidays.duty]", f"{_toml_str(first.isoformat())} = {_toml_str(DUTY[0])}",
                  f"{_toml_str(f'{first + timedelta(days=1)}..{last}')} = {_toml_str(DUTY[1])}", ""]
    return "\n".join(lines)


#: Who is on duty during the demo's holiday: its first day, then the weekend.
DUTY = ("王园长", "刘师傅（门卫）")

#: The demo's checklists: a daily round, the Monday-style weekly playground check (on the weekday of the last
#: school day, so one is overdue) and the closing check before a holiday.
DEMO_CHECKLISTS = """
[[inspections.checklists]]
id = "daily-round"
name = "每日安全巡查"
schedule = "daily"
role = "facilities"
window = "07:00-09:00"
items = [
    { id = "gate", text = "大门、围墙完好，门禁正常", devices = ["gate"] },
    { id = "fridges", text = "厨房冰箱温度正常", devices = ["kitchen-fridge-1", "kitchen-fridge-2"] },
    { id = "exits", text = "消防通道畅通，灭火器在位" },
    { id = "sockets", text = "插座、电线无裸露破损" },
]

[[inspections.checklists]]
id = "weekly-playground"
name = "户外大型玩具、体育器械检查"
schedule = "weekly"
weekday = "WEEKDAY"
role = "facilities"
window = "07:00-10:00"
items = [
    { id = "slide", text = "滑梯、攀爬架牢固无松动" },
    { id = "sports", text = "体育器械无破损、无锐角" },
    { id = "mats", text = "地面软垫完好" },
]

[[inspections.checklists]]
id = "holiday-closing"
name = "放假前关闭检查"
schedule = "before_holiday"
role = "facilities"
window = "15:00-18:00"
items = [
    { id = "water", text = "总水阀已关", devices = ["water-main"] },
    { id = "power", text = "非必要电源已关", devices = ["power-main"] },
    { id = "gas", text = "燃气总阀已关" },
    { id = "doors", text = "门窗已锁好", devices = ["gate"] },
]
"""


#: Tariffs (so the weekly report prices what was used) and the gate: the simulated reader's cards are
#: decided by the gateway, which pulses the simulated gate's lock relay (cards: ``register_demo_cards``).
DEMO_REPORTS_AND_GATE = """
[reports.tariff]
water = { kind = "flat", price = 4.1 }    # 元/m³
power = { kind = "peak_valley", price = 0.75, bands = [   # 元/kWh, 峰谷
    { name = "peak", from = "08:00", to = "11:00", price = 1.15 },
    { name = "peak", from = "18:00", to = "21:00", price = 1.15 },
    { name = "valley", from = "23:00", to = "07:00", price = 0.35 },
] }

[gate]
# gate-reader's cards are decided here; an accepted card pulses the gate's lock relay
readers = [{ device = "gate-reader", relay = "gate", direction = "in" }]
relay_seconds = "3s"
"""

#: Holders of the simulated reader's cards, in the order of ``Gate.cards``: the guard, a contractor
#: allowed on weekdays 09:00-16:00, a card disabled when its holder left, then the staff.
DEMO_CARD_HOLDERS: tuple[str, ...] = (
    "刘师傅（门卫）", "李师傅（维修外包）", "赵老师（已离职）",
    "王园长", "陈老师", "张老师", "杨老师", "黄老师", "周老师", "吴老师", "徐老师", "孙老师", "马老师",
    "朱老师", "胡老师", "郭老师", "何老师", "林老师", "罗老师", "高老师", "郑阿姨（厨房）", "梁阿姨（厨房）",
    "谢阿姨（保育）", "宋医生（保健）",
)
#: The contractor's hours (local time, weekdays): reads outside them are refused as out of hours.
CONTRACTOR_HOURS = "09:00-16:00"


def register_demo_cards(registry: CardRegistry, uids: Sequence[str]) -> int:
    """Register the simulated reader's cards (guard, contractor with hours, a disabled card, staff); returns
    how many were new. Cards already registered (a demo run again on the same DIR) are left as they are."""
    added = 0
    for i, uid in enumerate(uids):
        if registry.by_uid(uid) is not None:
            continue
        holder = DEMO_CARD_HOLDERS[i] if i < len(DEMO_CARD_HOLDERS) else f"教职工 {i + 1}"
        if i == 0:
            registry.add(uid, holder, "guard", note="演示：门卫")
        elif i == 1:
            registry.add(uid, holder, "contractor", days="12345", hours=CONTRACTOR_HOURS,
                         note=f"演示：外包维修，工作日 {CONTRACTOR_HOURS}")
        elif i == 2:
            card = registry.add(uid, holder, "staff", note="演示：已离职，卡已停用")
            registry.update(card.id, disabled=True)
        else:
            registry.add(uid, holder, "staff")
        added += 1
    return added


#: Alert rules of the demo. Rules that depend on the school calendar (after-hours access, use while
#: closed) are left out: at a speed-up the simulated day runs ahead of the wall clock the gateway uses.
DEMO_RULES = """
# Alerts are recorded and shown on the dashboard; no [notify] chains, so nothing is sent anywhere.
[[rules]]
id = "fridge-warm"
kind = "threshold"
name = "冷藏冰箱温度过高"
devices = ["kitchen-fridge-*"]
above = 8.0
clear_below = 6.5
for = "5m"

[[rules]]
id = "freezer-warm"
kind = "threshold"
name = "冷冻柜温度过高"
devices = ["kitchen-freezer"]
above = -12.0
clear_below = -15.0
for = "10m"

[[rules]]
id = "sample-fridge-range"
kind = "threshold"
name = "留样冰箱温度超出范围"
severity = "critical"
devices = ["sample-fridge"]
above = 5.0
clear_below = 4.5
for = "5m"

[[rules]]
id = "gate-held-open"
kind = "gate_held_open"
devices = ["gate"]
for = "2m"

[[rules]]
id = "gate-forced"
kind = "gate_forced"
severity = "critical"
devices = ["gate"]
authorized_by = ["gate", "gate-reader", "gate-button"]

[[rules]]
id = "device-silent"
kind = "stale"
severity = "minor"
devices = ["kitchen-*", "sample-fridge", "water-main", "power-main"]
for = "15m"
"""


def last_school_day_at(now: float, hour: int, minute: int, timezone: str) -> float:
    """Unix time of ``hour:minute`` local on today or the latest weekday before it."""
    tz = ZoneInfo(timezone)
    day = datetime.fromtimestamp(now, tz)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp()


def _choose_port(requested: int | None, default: int) -> int:
    if requested is not None:
        return requested
    return default if port_is_free(default) else free_port()


def _stored_totals(gateway: Any) -> dict[str, float]:
    """Last stored meter totals of the simulated meters (a demo run again on the same DIR goes on)."""
    totals: dict[str, float] = {}
    for device, metric in (("water-main", "total_l"), ("power-main", "energy_wh")):
        for info in gateway.store.series(device):
            if info.metric == metric:
                totals[device] = info.last_value
    return totals


def _continue_temperatures(gateway: Any, site: SimulatedSite) -> None:
    """Start the simulated fridges at their last stored temperature (no jump where the history ends)."""
    stores = [*site.fridges.values(), site.freezer, site.sample_fridge]
    for store in stores:
        for info in gateway.store.series(store.device):
            if info.metric == "temperature" and abs(info.last_ts - time.time()) < 3600:
                store.temperature = info.last_value


def run(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C or SIGTERM; exit 0 after a clean stop, 1 when it cannot start."""
    from gateway.link_settings import link_settings

    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="houqin-demo-"))
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"cannot create the demo directory {base}: {e}; pass --dir with a writable directory", file=sys.stderr)
        return 1
    base = base.resolve()
    mqtt_port = _choose_port(args.mqtt_port, DEFAULT_MQTT_PORT)
    dashboard_port = _choose_port(args.port, DEFAULT_DASHBOARD_PORT)
    # said now, not after a minute of filling history
    for port, option in ((mqtt_port, "--mqtt-port"), (dashboard_port, "--port")):
        if not port_is_free(port):
            print(f"cannot start the demo: 127.0.0.1:{port} is in use; choose another port with {option} "
                  "(or leave it out to take a free one)", file=sys.stderr)
            return 1
    config_path = base / "houqin.toml"
    story = demo_story(time.time(), DEMO_TIMEZONE)
    config_path.write_text(demo_config_text(base / "data", mqtt_port, dashboard_port, story), encoding="utf-8")
    try:
        cfg = load_config(config_path)
    except ConfigError as e:  # a bug in the demo's own config: say exactly what
        print(f"the demo config {config_path} is invalid:", file=sys.stderr)
        for p in e.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1

    with stop_on_signals() as stop:
        return _serve(cfg, config_path, args, stop, link_settings, story)


def _serve(cfg: Config, config_path: Path, args: argparse.Namespace, stop: threading.Event,
           link_settings: Any, story: DemoStory) -> int:
    from dashboard.component import serve_dashboard
    from gateway.app import build_gateway

    try:
        gw = build_gateway(cfg)
        web = serve_dashboard(gw)
    except HouqinError as e:
        print(f"cannot start the demo: {e}", file=sys.stderr)
        return 1
    history: BackfillResult | None = None
    try:
        if args.history > 0:
            history = _fill_history(cfg, gw, args, stop, story)
        start = None
        if args.start is not None and args.speed != 1.0:
            hour, minute = args.start
            start = last_school_day_at(time.time(), hour, minute, cfg.site.timezone)
        # live UV lamps only in real time: sped up, their evening would fall in the wall clock's class hours
        site = SimulatedSite(start=start if start is not None else time.time(), seed=args.seed,
                             timezone=cfg.site.timezone, story=story, lamps=args.speed == 1.0)
        site.continue_totals(_stored_totals(gw))
        _continue_temperatures(gw, site)
        site.use_lock_relay()  # the gateway decides the cards and pulses the gate's relay
        cards_added = register_demo_cards(gw.gate.cards, site.gate.cards)
    except KeyboardInterrupt:
        gw.close()
        print(f"\nstopped while filling history; the days written so far stay in {cfg.storage.path} (run again "
              f"with --dir {config_path.parent} to go on)", file=sys.stderr, flush=True)
        return 0
    except (HouqinError, OSError) as e:
        gw.close()
        print(f"cannot start the demo: {e}", file=sys.stderr)
        return 1
    except BaseException:
        gw.close()
        raise
    if stop.is_set():
        gw.close()
        print("stopped before the demo started", file=sys.stderr)
        return 0
    # nine simulated devices connecting would log nine "connected" lines; problems still show
    logging.getLogger("gateway.mqtt_link").setLevel(logging.WARNING)
    # a line per accepted card would bury the banner at the morning rush; refused cards still show
    logging.getLogger("gateway.gate.access").setLevel(logging.WARNING)
    try:
        gw.start()
    except (HouqinError, OSError) as e:  # a port in use, an unwritable directory: say which
        print(f"cannot start the demo: {e}", file=sys.stderr)
        return 1
    sim: Simulator | None = None
    try:
        if args.leak:
            site.set_leak()
        if args.broken_fridge:
            site.fail_compressor("kitchen-fridge-2")
        if args.left_on:
            site.set_left_on()
        sim = Simulator(cfg.site.id, link_settings(cfg, client_id="houqin-sim", persistent=False),
                        speed=args.speed, site=site)
        sim.start()
        _print_banner(cfg, config_path, args, list(prepare_login(web)), history, len(site.gate.cards), cards_added)
        next_status = time.monotonic() + STATUS_EVERY_S
        while not stop.wait(1.0):
            if time.monotonic() >= next_status:
                next_status += STATUS_EVERY_S
                stats = gw.stats()
                print(f"[demo] simulated {datetime.fromtimestamp(site.t, ZoneInfo(cfg.site.timezone)):%a %H:%M}, "
                      f"published {sim.published}, gateway received {stats.get('messages', '?')}",
                      file=sys.stderr, flush=True)
    finally:
        print("stopping the demo...", file=sys.stderr, flush=True)
        if sim is not None:
            sim.stop()
        gw.stop()
        print(f"stopped; the data stays in {cfg.storage.path} (run again with --dir {config_path.parent})",
              file=sys.stderr, flush=True)
    return 0


def _fill_history(cfg: Config, gw: Any, args: argparse.Namespace, stop: threading.Event,
                  story: DemoStory) -> BackfillResult:
    """Backfill simulated history with a progress line; Ctrl-C stops it after the day being written."""
    now = time.time()
    tty = sys.stderr.isatty()
    shown = [-1]

    def progress(done: float, total: float) -> None:
        if stop.is_set():
            raise KeyboardInterrupt("Ctrl-C while filling history; the days written so far are kept")
        day, days = int(done // 86400), max(1, round(total / 86400))
        if tty:
            print(f"\rfilling simulated history: day {day}/{days}", end="", file=sys.stderr, flush=True)
        elif day != shown[0] and (day % 7 == 0 or done >= total):  # a log file gets a line a week, not a day
            shown[0] = day
            print(f"filling simulated history: day {day}/{days}", file=sys.stderr, flush=True)

    print(f"filling {args.history:g} days (back to a Monday) of simulated history into {cfg.storage.path} "
          "(charts and reports start with weeks of data)...", file=sys.stderr, flush=True)
    result = backfill(cfg, gw.store, gw.events_db, days=args.history, end=now, seed=args.seed,
                      leak=leak_window(now, cfg.site.timezone), progress=progress, story=story)
    if tty:
        print(file=sys.stderr)
    seed_inspections(gw, story, result.start, now)
    if result.readings:
        print(f"history: {result.readings:,} readings over {result.days:.1f} days in {result.seconds:.1f} s",
              file=sys.stderr, flush=True)
    else:
        print("history: already there from an earlier run", file=sys.stderr, flush=True)
    return result


def houqin_command() -> str:
    """How to call houqin from another shell: ``houqin`` when on PATH, else this program's full path."""
    if shutil.which("houqin"):
        return "houqin"
    argv0 = Path(sys.argv[0])
    if argv0.name == "houqin" and argv0.exists():
        return str(argv0.resolve())
    return f"{sys.executable} -m gateway"


def _print_banner(cfg: Config, config_path: Path, args: argparse.Namespace, dashboard: list[str],
                  history: BackfillResult | None = None, cards: int = 0, cards_added: int = 0) -> None:
    addr = cfg.mqtt.address()
    c = str(config_path)
    h = houqin_command()
    lines = [
        "",
        f"Houqin demo: {cfg.site.name} ({cfg.site.id}), {len(cfg.devices)} simulated devices at "
        f"{args.speed:g}x speed",
        f"  config:      {c}",
        f"  data:        {cfg.storage.path}",
        f"  MQTT broker: mqtt://{addr.host}:{addr.port} (embedded, MQTT 3.1.1)",
    ]
    if dashboard:
        lines += [f"  dashboard:   {dashboard[0]}", *(f"               {line}" for line in dashboard[1:])]
    else:
        lines.append(f"  dashboard:   port {cfg.dashboard.port} (when the dashboard is installed)")
    if history is not None and not history.readings:
        lines.append("  history:     from the earlier run on this directory")
    elif history is not None:
        tz = ZoneInfo(cfg.site.timezone)
        since = datetime.fromtimestamp(history.start, tz)
        lines.append(f"  history:     simulated readings since {since:%a %d %b %H:%M} ({history.days:.1f} days)")
        if history.leak is not None:
            a, b = (datetime.fromtimestamp(x, tz) for x in history.leak)
            lines.append(f"               with a water leak {a:%a %d %b %H:%M} - {b:%a %d %b %H:%M} "
                         "(see the weekly report)")
    if cards:
        lines.append(f"  gate:        {cards} cards registered{' now' if cards_added else ''} (a guard, a contractor "
                     f"{CONTRACTOR_HOURS} on weekdays, one disabled); unknown and disabled cards are refused")
        if dashboard:
            lines.append(f"               every card read, accepted or refused: {dashboard[0].rstrip('/')}/gate/desk")
    if dashboard and history is not None:
        lines.append(f"  reports:     {dashboard[0].rstrip('/')}/reports/weekly (last week), "
                     f"{dashboard[0].rstrip('/')}/utilities, {dashboard[0].rstrip('/')}/cold/sheet")
    lines += [
        "",
        "Try, in another shell:",
        f"  {h} tail --config {c}",
        f"  {h} query kitchen-fridge-1 --since 10m --config {c}",
        f"  {h} query water-main --metric total_l --json --config {c}",
        f"  {h} alerts --config {c}",
        f"  {h} report weekly --config {c}",
        f"  {h} dead-letters --config {c}",
        f"  mosquitto_sub -p {addr.port} -t 'houqin/#' -v",
        "",
        "Ctrl-C stops the demo.",
        "",
    ]
    if args.start is None and not _school_hours(time.time(), cfg.site.timezone):
        lines[-2:-2] = ["The simulated school is closed now (night or weekend): little happens at the gate. For the "
                        "morning rush:", f"  {h} demo --dir {config_path.parent} --start 07:30 --speed 60", ""]
    print("\n".join(lines), flush=True)


def _school_hours(now: float, timezone: str) -> bool:
    """Whether ``now`` is 07:00-18:00 local on a weekday (when the simulated gate is busy)."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return local.weekday() < 5 and 7 <= local.hour < 18
