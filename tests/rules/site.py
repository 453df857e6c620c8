"""A test site: config from dicts, a real events DB file, Alerting with a ManualClock."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gateway.alerting import Alerting
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.eventsdb import EventsDB
from gateway.model import Availability, CommittedBatch, Event, Reading
from gateway.notify.channel import Publisher
from tests.waiting import COMMIT_WINDOW

# Friday 2026-11-20 02:00 in Asia/Shanghai (the school is closed).
FRI_2AM = 1_795_111_200.0

DEVICES = [
    {"id": "kitchen-fridge", "kind": "fridge", "name": "Kitchen fridge", "location": "kitchen"},
    {"id": "kitchen-freezer", "kind": "freezer"},
    {"id": "water", "kind": "water_meter"},
    {"id": "power", "kind": "power_meter"},
    {"id": "gate", "kind": "gate", "name": "Front gate"},
    {"id": "reader", "kind": "card_reader"},
    {"id": "sink-leak", "kind": "leak"},
]


def config(tmp_path: Path, rules: list[dict[str, Any]], notify: dict[str, Any] | None = None,
           calendar: dict[str, Any] | None = None, locale: str = "en") -> Config:
    raw: dict[str, Any] = {"site": {"id": "kg", "locale": locale},
                           "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
                           "devices": DEVICES, "rules": rules}
    if notify is not None:
        raw["notify"] = notify
    if calendar is not None:
        raw["calendar"] = calendar
    return parse_config(raw)


class Site:
    """Alerting over a real events DB; feed it batches and move its clock."""

    def __init__(self, cfg: Config, clock: ManualClock, publisher: Publisher | None = None,
                 start: bool = True) -> None:
        self.cfg = cfg
        self.clock = clock
        path = cfg.storage.path
        path.mkdir(parents=True, exist_ok=True)
        self.db = EventsDB(path / "events.db")
        self.alerting = Alerting(cfg, self.db, clock, publisher=publisher)
        self.service = self.alerting.service
        self.started = start
        if start:
            # Only the delivery workers: rules are evaluated inline and time moves by tick().
            self.alerting.dispatcher.start()
            self.alerting.escalator.restore()
            self.alerting.escalator.sync()

    def feed(self, readings: Iterable[Reading] = (), events: Iterable[Event] = (),
             availability: Iterable[Availability] = ()) -> None:
        self.alerting.on_batch(CommittedBatch(tuple(readings), tuple(events), tuple(availability)))

    def reading(self, device: str, metric: str, value: float, ts: float | None = None) -> None:
        t = self.clock.now() if ts is None else ts
        self.feed([Reading(t, device, metric, value)])

    def event(self, device: str, type_: str, **data: Any) -> None:
        self.feed(events=[Event(self.clock.now(), device, type_, data)])

    def advance(self, seconds: float, step: float = 60.0) -> None:
        """Move time in steps, ticking like the scheduler would."""
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.set(min(end, self.clock.now() + step))
            self.alerting.tick()

    def close(self) -> None:
        if self.started:
            self.alerting.dispatcher.stop()
        self.alerting.store.close()
        self.db.close()
