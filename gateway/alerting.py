"""Rules, alerts and notifications wired into one gateway part (built by ``gateway.app.build_gateway``).

It lives above ``gateway.rules``, ``gateway.alerts`` and ``gateway.notify`` so those packages need not
import each other to be put together.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from gateway.alerts.service import AlertService
from gateway.alerts.store import AlertStore
from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.config import Config
from gateway.device_status import device_status
from gateway.eventsdb import EventsDB
from gateway.model import CommittedBatch
from gateway.notify.build import build_channels
from gateway.notify.channel import Publisher
from gateway.notify.dispatcher import Dispatcher
from gateway.notify.escalation import Escalator
from gateway.notify.message import Message
from gateway.notify.messages import Composer
from gateway.rules.engine import RuleEngine
from gateway.store.base import TimeSeriesStore
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

#: Seconds between the rules' ticks (in memory). A gate forced open is due when its grace ends, and the guard's
#: screen must show it within a second of that: ticking every second made it 1.0 s late (bench/gate_alarm.py).
RULE_TICK_S = 0.25


def device_labels(config: Config) -> dict[str, str]:
    """Device id -> name for people, with its location when configured."""
    return {d.id: f"{d.label} ({d.location})" if d.location else d.label for d in config.devices}


def last_seen_from(store: TimeSeriesStore, events_db: EventsDB | None = None) -> Callable[[str], float | None]:
    """Last real reading or event of a device (seeds stale rules after a restart).

    From the time-series store's series and the saved ``last_data`` (``device_status``); never an
    availability message, so a retained ``online`` redelivered at the restart does not pass for a reading.
    """

    def last_seen(device: str) -> float | None:
        times: list[float] = []
        try:
            times.extend(s.last_ts for s in store.series(device))
        except Exception:  # an unreachable store: the DB may still know, else the start time is used
            log.warning("could not read the last sample of %s from the store", device, exc_info=True)
        if events_db is not None:
            st = device_status(events_db, store).get(device)
            if st is not None and st.last_data is not None:
                times.append(st.last_data)
        return max(times, default=None)

    return last_seen


class Alerting:
    """Rules engine + alert service + escalation + delivery, as one gateway component.

    ``on_batch`` is the ``BatchObserver`` for ingest; ``service`` is the API for the dashboard and CLI.
    """

    def __init__(self, config: Config, events_db: EventsDB, clock: Clock, publisher: Publisher | None = None,
                 last_seen: Callable[[str], float | None] | None = None, tick_every_s: float = 1.0) -> None:
        self.clock = clock
        self.store = AlertStore(events_db)
        self.service = AlertService(self.store, clock)
        self.calendar = SchoolCalendar(config.calendar, config.site.timezone)
        n = config.notify
        self.dispatcher = Dispatcher(build_channels(n.channels, config.site.id, publisher), attempts=n.attempts,
                                     backoff_s=n.backoff, queue_size=n.queue_size, on_result=self._delivered)
        composer = Composer({r.id: r for r in config.rules}, device_labels(config), config.site.locale,
                            config.site.tz)
        self.escalator = Escalator(n.chains, self.store, self.dispatcher, composer, clock)
        self.service.add_listener(self.escalator.on_alert_change)
        self.engine = RuleEngine(config.rules, self.service, self.calendar, clock,
                                 devices=[d.id for d in config.devices], last_seen=last_seen,
                                 lock_relays={r.device: r.relay for r in config.gate.readers if r.relay},
                                 event_only=[d.id for d in config.devices if d.event_only])
        # The scheduler ticks the rules every RULE_TICK_S and escalation every tick_every_s (counted in its
        # ticks, wall time: an injected clock may stand still).
        self._rule_ticks = max(1, round(tick_every_s / RULE_TICK_S))
        self._ticks = 0
        self._ticker = Ticker(self._scheduled, tick_every_s / self._rule_ticks, "houqin-alerting-tick")
        self._records: queue.Queue[tuple[int, float, str, str] | None] = queue.Queue(maxsize=10_000)
        self._recorder: threading.Thread | None = None

    def on_batch(self, batch: CommittedBatch) -> None:
        """``BatchObserver``: hand the batch to the rule engine (queued once started)."""
        self.engine.on_batch(batch)

    def tick(self, now: float | None = None) -> None:
        """Let time pass for rules and escalation (the scheduler does this every second)."""
        self.engine.tick(now)
        with self.service.in_order():  # escalates only alerts whose opening every listener has heard of
            self.escalator.tick(now)

    def _scheduled(self) -> None:
        """The scheduler's tick: the rules at each, escalation (which reads the events database) at every
        ``_rule_ticks``-th."""
        self._ticks += 1
        if self._ticks % self._rule_ticks:
            self.engine.tick()
        else:
            self.tick()

    def start(self) -> None:
        """Start delivery workers, the rule worker and the one-second scheduler."""
        self._recorder = threading.Thread(target=self._record_loop, name="houqin-notify-log", daemon=True)
        self._recorder.start()
        self.dispatcher.start()
        with self.service.in_order():
            self.escalator.restore()
            self.escalator.sync()
        self.engine.start()
        self._ticker.start()

    def stop(self) -> None:
        """Stop the scheduler, evaluate what is queued, then stop delivery."""
        self._ticker.stop()
        self.engine.stop()
        self.dispatcher.stop()
        if self._recorder is not None:
            self._records.put(None)
            self._recorder.join(timeout=10)
            self._recorder = None
        self.store.close()

    def _delivered(self, channel: str, message: Message, error: str | None) -> None:
        # Recorded by another thread: a delivery worker must not wait for the events DB's write lock
        # (busy with ingest) before it sends the next message.
        if message.alert is None:  # the escalator only sends messages about alerts
            return
        what = "delivered" if error is None else "delivery failed"
        note = f"{channel}: {message.alert.event}" + (f": {error}" if error else "")
        entry = (message.alert.id, self.clock.now(), what, note)
        if self._recorder is None:
            self._record(entry)
            return
        try:
            self._records.put_nowait(entry)
        except queue.Full:
            log.error("delivery log queue full; alert %d: %s %s not recorded", entry[0], what, note)

    def _record(self, entry: tuple[int, float, str, str]) -> None:
        try:
            self.store.add_timeline(*entry)
        except Exception:
            log.exception("could not record the delivery of alert %d", entry[0])

    def _record_loop(self) -> None:
        while True:
            entry = self._records.get()
            if entry is None:
                return
            self._record(entry)

    def stats(self) -> dict[str, Any]:
        """Counters: ``rules_*`` numbers, and ``notify_*`` mappings of channel -> number (sent, failed
        attempts, retried, gave up, dropped, queued)."""
        out: dict[str, Any] = {f"rules_{k}": v for k, v in asdict(self.engine.stats()).items()}
        per_channel = {name: asdict(s) for name, s in self.dispatcher.stats().items()}
        for field in ("sent", "failed_attempts", "retried", "gave_up", "dropped", "queued"):
            out[f"notify_{field}"] = {name: c[field] for name, c in per_channel.items()}
        return out

