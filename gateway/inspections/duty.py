"""Holiday duty routing: an alert opened on a day of the duty roster (``[inspections.holidays] duty``) walks the
person on duty's chain (``duty_chains``) first, then, ``duty_first`` later, its own chain as usual."""

from __future__ import annotations

from datetime import date, datetime

from gateway.alerts.model import Alert
from gateway.calendar import parse_days
from gateway.config import Config
from gateway.notify.config import ChainSettings, ChainStep


class DutyRouter:
    """``Escalator.route_with`` hook: the chain an alert walks, decided by the day it opened (so it never changes
    under an alert while its steps are counted)."""

    def __init__(self, config: Config) -> None:
        s = config.inspections.holidays
        self.tz = config.site.tz
        self.first = s.duty_first
        self.roster = {d: who for key, who in s.duty.items() for d in parse_days([key])}
        self.duty_chains = {who: config.notify.chains[c] for who, c in s.duty_chains.items()
                            if c in config.notify.chains}

    def on_duty(self, day: date) -> str | None:
        """Who is on duty on ``day``."""
        return self.roster.get(day)

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
