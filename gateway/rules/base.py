"""What every rule evaluator shares: the evaluation context and duration bookkeeping (settings: ``rules.settings``)."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.model import Availability, Event, Reading
from gateway.rules.settings import RuleBase

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class RuleContext:
    """What evaluators need from the rest of the gateway."""

    service: AlertService
    calendar: SchoolCalendar
    clock: Clock
    #: Configured device ids (stale rules watch devices that never spoke).
    devices: Sequence[str] = ()
    #: Last time a device was heard of, from the store (seeds stale rules after a restart).
    last_seen: Callable[[str], float | None] | None = None
    #: Card reader -> the lock relay an accepted card releases (``[[gate.readers]]``): a release event of
    #: that relay counts for whichever gate the reader belongs to.
    lock_relays: Mapping[str, str] = field(default_factory=dict)
    #: Who decides a card read that carries no ``accepted`` flag: each callable answers ``(reader, uid, ts)``
    #: with True/False when it decides that reader's cards (the gate's registry), or None when it does not.
    #: Filled in by the gate when it is installed, so a refused card never excuses a forced opening.
    card_deciders: list[Callable[[str, str, float], bool | None]] = field(default_factory=list)
    #: Each says whether an event is authentic (the gate: card and button events the agent signs); an event one
    #: of them refuses authorizes nothing, so a forged exit-button press excuses no forced opening.
    event_checks: list[Callable[[Event], bool]] = field(default_factory=list)


class Evaluator:
    """Base of one rule's evaluator: device matching and duration ("for") bookkeeping.

    Subclasses override ``on_reading``, ``on_event``, ``on_availability`` and ``tick``; all are called
    from the engine's one thread, never concurrently.
    """

    settings: RuleBase

    def __init__(self, settings: RuleBase, ctx: RuleContext,
                 pending: dict[tuple[str, str], tuple[float, float | None]]) -> None:
        self.settings = settings
        self.ctx = ctx
        self._match: dict[str, bool] = {}
        #: device -> (since, value) of conditions that hold but have not lasted long enough yet (or have
        #: raised their alert); persisted in ``rule_pending``.
        self._since: dict[str, tuple[float, float | None]] = {
            dev: v for (rule, dev), v in pending.items() if rule == settings.id}
        self._persisted: set[str] = set(self._since)
        self._raised: set[str] = {a.device for a in ctx.service.list(open_only=True, rule=settings.id)}

    @property
    def id(self) -> str:
        """The rule id."""
        return self.settings.id

    def watches(self, device: str) -> bool:
        """Whether ``device`` matches one of the rule's ids or globs."""
        hit = self._match.get(device)
        if hit is None:
            hit = any(fnmatch.fnmatchcase(device, pat) for pat in self.settings.devices)
            self._match[device] = hit
        return hit

    def configured_devices(self) -> list[str]:
        """Configured devices this rule watches."""
        return [d for d in self.ctx.devices if self.watches(d)]

    def in_schedule(self, ts: float) -> bool:
        """Whether the rule applies at ``ts`` (its ``schedule`` against the school calendar)."""
        if self.settings.schedule == "always":
            return True
        return self.ctx.calendar.is_open(ts) == (self.settings.schedule == "open")

    # -- events from the engine --------------------------------------------------------------------
    def on_reading(self, r: Reading) -> None:
        """A committed reading of a watched device."""

    def on_event(self, e: Event) -> None:
        """A committed event of a watched device."""

    def on_availability(self, a: Availability) -> None:
        """A watched device went online or offline."""

    def tick(self, now: float) -> None:
        """Time passed; fire durations that have run out."""

    # -- helpers -----------------------------------------------------------------------------------
    def request(self, device: str, value: float | None, detail: str, since: float,
                metric: str | None = None) -> OpenRequest:
        """An open request for this rule."""
        s = self.settings
        return OpenRequest(rule=s.id, device=device, kind=getattr(s, "kind", "rule"), severity=s.severity,
                           chain=s.notify, metric=metric, value=value, detail=detail, since=since, latch=s.latch)

    def fire(self, device: str, value: float | None, detail: str, since: float, metric: str | None = None) -> None:
        """Raise the alert of ``device`` now (a no-op when it is open already)."""
        self.ctx.service.raise_alert(self.request(device, value, detail, since, metric))
        self._raised.add(device)

    def hold(self, device: str, ts: float, value: float | None, duration: float, detail: str,
             metric: str | None = None) -> None:
        """The condition holds at ``ts``: start its duration, or raise once it lasted ``duration``."""
        started = self._since.get(device)
        if started is None:
            started = (ts, value)
            self._since[device] = started
            if duration > 0:  # an immediate rule has no duration to survive a restart: skip the fsync
                self.ctx.service.store.set_pending(self.id, device, ts, value)
                self._persisted.add(device)
        if device not in self._raised and max(ts, self.ctx.clock.now()) - started[0] >= duration:
            self.fire(device, value, detail, started[0], metric)

    def release(self, device: str, value: float | None = None) -> None:
        """The condition ended: forget its duration and end its alert."""
        if self._since.pop(device, None) is not None and device in self._persisted:
            self._persisted.discard(device)
            self.ctx.service.store.drop_pending(self.id, device)
        if device in self._raised:
            self._raised.discard(device)
            self.ctx.service.end(self.id, device, value)

    def holding(self, device: str) -> bool:
        """Whether the condition of ``device`` holds (pending or raised)."""
        return device in self._since or device in self._raised

    def tick_holds(self, now: float, duration: float, detail: Callable[[str, float | None], str],
                   metric: str | None = None) -> None:
        """Raise every held condition that has now lasted ``duration``."""
        for device, (since, value) in list(self._since.items()):
            if device not in self._raised and now - since >= duration:
                self.fire(device, value, detail(device, value), since, metric)

    def forget_cleared(self, device: str) -> None:
        """The alert of ``device`` was cleared elsewhere (e.g. a latched alert acknowledged)."""
        self._raised.discard(device)
