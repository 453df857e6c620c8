"""What every rule kind shares: common settings, the evaluation context and duration bookkeeping."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.contract import METRICS, check_id
from gateway.durations import format_duration, parse_duration
from gateway.i18n import tr
from gateway.model import Availability, Event, Reading

log = logging.getLogger(__name__)

#: A duration in the config (``"10m"``, ``"2h"``, or seconds), held as seconds.
Duration = Annotated[float, BeforeValidator(parse_duration)]
Schedule = Literal["always", "open", "closed"]


def _known_metric(v: str) -> str:
    if v not in METRICS:
        raise ValueError(f"unknown metric {v!r}; use usage_l or usage_wh")
    return v


#: The usage metric a meter rule watches (``usage_l`` for water, ``usage_wh`` for energy).
UsageMetric = Annotated[str, AfterValidator(_known_metric)]


class RuleBase(BaseModel):
    """Settings every ``[[rules]]`` entry has."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True)

    id: str
    """Unique rule id (e.g. ``"fridge-warm"``); alerts and messages name it."""
    devices: list[str] = Field(min_length=1)
    """Device ids or globs (``"kitchen-fridge*"``) the rule watches; each must match a ``[[devices]]`` id."""
    severity: Literal["critical", "major", "minor", "warning"] = "major"
    """How bad an alert of this rule is."""
    notify: str | None = None
    """Name of the escalation chain in ``[notify.chains]``; no chain = recorded and shown, not sent."""
    schedule: Schedule = "always"
    """``open``: only while the school is open; ``closed``: only while it is closed (by ``[calendar]``)."""
    name: str = ""
    """Human name of the rule for messages; default: a description of its condition."""
    latch: bool = False
    """A latched alert stays until acknowledged even when its condition ends."""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "fridge-warm")

    def describe(self, locale: str) -> str:
        """The condition in words, in ``locale``."""
        return self.name or self.id


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


#: Units of a duration in words, largest first; msgids of the catalogs (English keeps the compact "10m00s").
_DURATION_UNITS = ((86400, "{n} d"), (3600, "{n} h"), (60, "{n} min"), (1, "{n} s"))


def dur(seconds: float, locale: str = "en") -> str:
    """A duration for messages: ``10m00s`` in English, ``10分钟`` / ``1小时30分钟`` in Chinese."""
    if locale == "en":
        return format_duration(seconds)
    rest, parts = round(seconds), []
    for size, unit in _DURATION_UNITS:
        n, rest = divmod(rest, size)
        if n:
            parts.append(tr(locale, unit, n=n))
    return "".join(parts[:2]) or tr(locale, "{n} s", n=0)


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
