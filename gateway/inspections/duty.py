"""The holiday duty roster (值班安排) and duty routing.

The roster is ``[inspections.holidays] duty`` until an admin saves one on the page; each save is a whole new
version (append-only, with who and when) and the latest replaces the config's. An alert opened on a day of the
roster walks the person on duty's chain (``duty_chains``) first, then, ``duty_first`` later, its own chain.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime

from gateway.alerts.model import Alert
from gateway.calendar import parse_days
from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.notify.config import ChainSettings, ChainStep

log = logging.getLogger(__name__)
#: Longest name of a person on duty (as for the other records' "who").
MAX_NAME = 100


class DutyRoster:
    """Who is on duty each holiday day: the config's roster or the latest saved on the page; any thread."""

    def __init__(self, config: Config, events_db: EventsDB | None, clock: Clock) -> None:
        self.configured = {d: who for key, who in config.inspections.holidays.duty.items() for d in parse_days([key])}
        self.db = events_db
        self.clock = clock

    def current(self) -> dict[date, str]:
        """Date -> who is on duty, by the latest saved version (the config's when none was saved)."""
        if self.db is None:
            return dict(self.configured)
        row = self.db.conn().execute("SELECT roster FROM duty_rosters ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return dict(self.configured)
        try:
            return {date.fromisoformat(k): str(v) for k, v in json.loads(row[0]).items()}
        except (ValueError, AttributeError):  # never written so by save(); the config's stands
            log.warning("the saved duty roster does not read; the config's is used")
            return dict(self.configured)

    def on_duty(self, day: date) -> str | None:
        """Who is on duty on ``day``."""
        return self.current().get(day)

    def save(self, roster: Mapping[date, str], by: str) -> dict[date, str]:
        """Save ``roster`` (blank names dropped) as a new version replacing the last; returns what was saved."""
        clean = {d: who.strip()[:MAX_NAME] for d, who in sorted(roster.items()) if who.strip()}
        if self.db is None:
            raise RuntimeError("no events database to save the duty roster in")
        self.db.conn().execute("INSERT INTO duty_rosters (roster, by, at) VALUES (?, ?, ?)",
                               (json.dumps({d.isoformat(): w for d, w in clean.items()}, ensure_ascii=False),
                                by.strip()[:MAX_NAME], self.clock.now()))
        return clean

    def versions(self) -> list[tuple[str, float]]:
        """Who saved each version and when, newest first."""
        if self.db is None:
            return []
        return [(str(r[0]), float(r[1])) for r in self.db.conn().execute(
            "SELECT by, at FROM duty_rosters ORDER BY id DESC")]


class DutyRouter:
    """``Escalator.route_with`` hook: the chain an alert walks, decided by the day it opened (so it never changes
    under an alert while its steps are counted)."""

    def __init__(self, config: Config, roster: DutyRoster) -> None:
        s = config.inspections.holidays
        self.tz = config.site.tz
        self.first = s.duty_first
        self.roster = roster
        self.duty_chains = {who: config.notify.chains[c] for who, c in s.duty_chains.items()
                            if c in config.notify.chains}

    def on_duty(self, day: date) -> str | None:
        """Who is on duty on ``day``."""
        return self.roster.on_duty(day)

    def chain_for(self, alert: Alert, own: ChainSettings | None) -> ChainSettings | None:
        """The duty chain's steps, then ``own``'s steps ``duty_first`` after the duty chain's last step."""
        who = self.on_duty(datetime.fromtimestamp(alert.opened_at, self.tz).date())
        duty = self.duty_chains.get(who or "")
        if duty is None or duty is own:
            return own
        if own is None:
            return duty
        later = duty.steps[-1].after + self.first
        steps = [*duty.steps, *(ChainStep(after=later + st.after, channels=st.channels) for st in own.steps)]
        return ChainSettings(steps=steps, repeat=own.repeat or duty.repeat, resolved=own.resolved or duty.resolved)
