"""The school gate: a contact, a card reader, an exit button, and the guard letting a visitor in."""

from __future__ import annotations

from demo.sim.base import EventObs, Every, Observation, StateObs, device_rng
from demo.sim.schedule import SchoolDay

#: People passing per hour: at the rushes, during school hours, just before closing on school days.
PASSES_PER_HOUR_RUSH = 90.0
PASSES_PER_HOUR_SCHOOL = 4.0
PASSES_PER_HOUR_EVENING = 2.0
#: Share of card reads by a card the gate does not know (refused; the gate stays shut).
UNKNOWN_CARD_SHARE = 0.03
#: Visitors the guard lets in on a school day: (name, purpose).
VISITORS: tuple[tuple[str, str], ...] = (
    ("李师傅", "维修"),
    ("张女士", "家长来访"),
    ("王先生", "送货"),
    ("陈老师", "教研"),
)


class Gate:
    """Gate contact (``contact`` open/closed), card reads, exit-button presses and visitor releases.

    The contact and releases belong to ``device``; cards to ``reader``; presses to ``button``.
    """

    def __init__(self, device: str, reader: str, button: str, seed: int, staff_cards: int = 24,
                 heartbeat_s: float = 300.0) -> None:
        self.device = device
        self.reader = reader
        self.button = button
        self._rng = device_rng(seed, device)
        self.cards = tuple(f"{self._rng.getrandbits(32):08X}" for _ in range(staff_cards))
        self.open_until: float | None = None
        self._heartbeat = Every(heartbeat_s)
        self._visitor_day: int | None = None
        self._visitor_in_at: float | None = None
        self._visitor_out_at: float | None = None
        self._visitor: tuple[str, str] = VISITORS[0]
        #: With a lock relay the reader only reports the card (no ``accepted``): the gate opens when the
        #: gateway, having decided, pulses the relay (``pulse``), as a real reader wired to a relay works.
        self.relay = False
        self._pulses: list[float] = []

    @property
    def is_open(self) -> bool:
        """Whether the gate is open now."""
        return self.open_until is not None

    def _rate(self, t: float, day: SchoolDay) -> float:
        if day.gate_rush(t):
            return PASSES_PER_HOUR_RUSH
        if day.gate_quiet_hours(t):
            return PASSES_PER_HOUR_SCHOOL
        h = day.hour(t)
        if day.school_day(t) and 17.75 <= h < 18.0:  # the last teachers leave before closing time
            return PASSES_PER_HOUR_EVENING
        return 0.0

    def _open(self, t: float, seconds: float, out: list[Observation]) -> None:
        if self.open_until is None:
            out.append(StateObs(t, self.device, {"contact": "open"}))
        self.open_until = max(self.open_until or t, t + seconds)

    def pulse(self, seconds: float) -> None:
        """The lock relay was pulsed for ``seconds``: the person whose card was accepted walks through."""
        self._pulses.append(seconds)

    def _plan_visitor(self, t: float, day: SchoolDay) -> None:
        local = day.local(t)
        ordinal = local.toordinal()
        if self._visitor_day == ordinal:
            return
        self._visitor_day = ordinal
        self._visitor_in_at = self._visitor_out_at = None
        if not day.school_day(t):
            return
        midnight = t - day.hour(t) * 3600.0
        self._visitor_in_at = midnight + self._rng.uniform(9.5, 11.0) * 3600.0
        self._visitor_out_at = self._visitor_in_at + self._rng.uniform(20.0, 60.0) * 60.0
        self._visitor = self._rng.choice(VISITORS)

    def step(self, t: float, dt: float, day: SchoolDay) -> list[Observation]:
        """Let people through for ``dt`` seconds; report contact changes and events."""
        out: list[Observation] = []
        if self.open_until is not None and t >= self.open_until:
            self.open_until = None
            out.append(StateObs(t, self.device, {"contact": "closed"}))
        self._plan_visitor(t, day)
        while self._pulses:
            self._open(t, max(self._pulses.pop(0), self._rng.uniform(4.0, 15.0)), out)
        rate = self._rate(t, day)
        if rate and self._rng.random() < rate * dt / 3600.0:
            if self._rng.random() < 0.6:  # coming in with a card
                if self._rng.random() < UNKNOWN_CARD_SHARE:
                    uid = f"{self._rng.getrandbits(32):08X}"
                    out.append(EventObs(t, self.reader, "card", {"uid": uid} if self.relay else
                                        {"uid": uid, "accepted": False}))
                elif self.relay:
                    out.append(EventObs(t, self.reader, "card", {"uid": self._rng.choice(self.cards)}))
                else:
                    uid = self._rng.choice(self.cards)
                    out.append(EventObs(t, self.reader, "card", {"uid": uid, "accepted": True}))
                    self._open(t, self._rng.uniform(4.0, 15.0), out)
            else:  # going out with the exit button
                out.append(EventObs(t, self.button, "button"))
                self._open(t, self._rng.uniform(4.0, 12.0), out)
        name, purpose = self._visitor
        if self._visitor_in_at is not None and t >= self._visitor_in_at:
            self._visitor_in_at = None
            out.append(EventObs(t, self.device, "release", {"reason": "visitor", "visitor": name,
                                                            "purpose": purpose}))
            self._open(t, self._rng.uniform(8.0, 20.0), out)
        elif self._visitor_in_at is None and self._visitor_out_at is not None and t >= self._visitor_out_at:
            self._visitor_out_at = None
            out.append(EventObs(t, self.device, "release", {"reason": "visitor_leaves", "visitor": name}))
            self._open(t, self._rng.uniform(8.0, 20.0), out)
        if self._heartbeat.due(t) and not any(isinstance(o, StateObs) for o in out):
            # a periodic state so "stale device" rules know the contact is alive
            out.append(StateObs(t, self.device, {"contact": "open" if self.is_open else "closed"}))
        return out
