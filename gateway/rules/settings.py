"""``[[rules]]`` settings: what every rule has, one model per kind, and the checks across rules.

Only values live here (pydantic, ``gateway.values``, ``contract``): ``gateway.config`` and the agent on the Pi
import it without the evaluators, the alert store or the translations. Each kind's evaluator is in its own
module (``gateway.rules.threshold`` ...), its condition in words in ``gateway.rules.describe``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.contract import METRICS, check_id
from gateway.values import Duration

Schedule = Literal["always", "open", "closed"]


def _known_metric(v: str) -> str:
    if v not in METRICS:
        raise ValueError(f"unknown metric {v!r}; use usage_l or usage_wh")
    return v


#: The usage metric a meter rule watches (``usage_l`` for water, ``usage_wh`` for energy).
UsageMetric = Annotated[str, AfterValidator(_known_metric)]


class RuleBase(BaseModel):
    """Settings every ``[[rules]]`` entry has."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)

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


class ThresholdRule(RuleBase):
    """``kind = "threshold"``: e.g. fridge above 8 °C for 10 min, clearing below 7 °C."""

    kind: Literal["threshold"]
    metric: str = "temperature"
    """The metric compared."""
    above: float | None = None
    """The condition holds while the value is above this."""
    below: float | None = None
    """The condition holds while the value is below this."""
    clear_below: float | None = None
    """Hysteresis: an "above" condition ends only at or below this (default: ``above``)."""
    clear_above: float | None = None
    """Hysteresis: a "below" condition ends only at or above this (default: ``below``)."""
    for_: Duration = Field(default=0.0, alias="for")
    """How long the condition must hold before the alert opens."""

    @model_validator(mode="after")
    def _bounds(self) -> ThresholdRule:
        if self.metric not in METRICS:
            raise ValueError(f"rule {self.id!r}: unknown metric {self.metric!r}; use one of {', '.join(METRICS)}")
        if self.above is None and self.below is None:
            raise ValueError(f"rule {self.id!r}: a threshold rule needs above = N and/or below = N")
        if self.above is not None and self.clear_below is not None and self.clear_below > self.above:
            raise ValueError(f"rule {self.id!r}: clear_below must be <= above (hysteresis)")
        if self.below is not None and self.clear_above is not None and self.clear_above < self.below:
            raise ValueError(f"rule {self.id!r}: clear_above must be >= below (hysteresis)")
        return self


class StaleRule(RuleBase):
    """``kind = "stale"``: e.g. any device silent for 15 min."""

    kind: Literal["stale"]
    for_: Duration = Field(default=900.0, alias="for", gt=0)
    """Alert when a device sent no reading or event for this long."""
    offline: bool = True
    """Also alert when the device's availability says ``offline`` (the agent or the device went away)."""
    offline_for: Duration = 60.0
    """How long a device must stay ``offline`` before that alert opens."""


class ContinuousFlowRule(RuleBase):
    """``kind = "continuous_flow"``: usage never fell below ``min_flow`` per minute in any ``window``."""

    kind: Literal["continuous_flow"]
    metric: UsageMetric = "usage_l"
    """A derived usage metric (``usage_l`` for water, ``usage_wh`` for energy)."""
    min_flow: float = Field(default=0.1, gt=0)
    """Units per minute that still count as flowing (e.g. litres per minute)."""
    window: Duration = Field(default=600.0, gt=0)
    """The meter "stopped" when a whole window of this length used less than ``min_flow`` per minute."""
    for_: Duration = Field(default=7200.0, alias="for", gt=0)
    """Alert when the meter never stood still for this long (a leak, a tap left running)."""


class ClosedHoursUseRule(RuleBase):
    """``kind = "closed_hours_use"``: usage per hour (or per closed day) above ``allowance`` while closed."""

    kind: Literal["closed_hours_use"]
    metric: UsageMetric = "usage_l"
    """``usage_l`` for water meters, ``usage_wh`` for power meters."""
    allowance: float = Field(ge=0)
    """Units allowed per period while closed (e.g. 20 litres per hour, 500 Wh per hour)."""
    per: Literal["hour", "day"] = "hour"
    """The allowance is per local ``hour`` or per ``day`` of closed time."""


class GateHeldOpenRule(RuleBase):
    """``kind = "gate_held_open"``: the ``contact`` metric is "open" for ``for`` (default 2 min)."""

    kind: Literal["gate_held_open"]
    for_: Duration = Field(default=120.0, alias="for")
    """Alert when the gate's ``contact`` stays open this long."""


class GateForcedRule(RuleBase):
    """``kind = "gate_forced"``: contact went open with no authorizing event in ``window`` before it."""

    kind: Literal["gate_forced"]
    authorized_by: list[str] | dict[str, list[str]] = Field(default_factory=list)
    """Devices whose events authorize an opening (card readers, exit buttons, lock relays). A list is for a rule
    watching one gate; with several gates, a table gate -> its devices (``[rules.authorized_by]`` ``front-gate =
    ["front-reader", "front-button"]``), so a card at one gate never excuses another. A gate's own events (its exit
    button, a release) always count for that gate, and a release of a reader's lock relay (``[[gate.readers]]
    relay``) counts wherever that reader does."""
    window: Duration = 10.0
    """A card accepted, exit button or release this long before an opening authorizes it."""
    grace: Duration = 2.0
    """Events may arrive a little after the contact over MQTT; wait this long before deciding."""
    latch: bool = True
    """Latched by default: the alert stays until acknowledged even when the gate is closed again."""


    def authorizer_patterns(self) -> list[str]:
        """Every device id or glob ``authorized_by`` names (the table's gates and their devices)."""
        if isinstance(self.authorized_by, dict):
            return [*self.authorized_by, *(p for pats in self.authorized_by.values() for p in pats)]
        return list(self.authorized_by)

    def gate_problems(self, devices: Sequence[str]) -> list[str]:
        """Which readers belong to which gate, checked against the configured ``devices``."""
        gates = [d for d in devices if any(fnmatch.fnmatchcase(d, p) for p in self.devices)]
        where = f"rule {self.id!r}"
        if isinstance(self.authorized_by, list):
            if self.authorized_by and len(gates) > 1:
                example = ", ".join(f'{g} = ["{g}-reader"]' for g in gates[:2])
                return [f"{where}: authorized_by is one list for {len(gates)} gates ({', '.join(gates)}), so a card "
                        f"at one gate would excuse opening another; say which devices belong to which gate: "
                        f"authorized_by = {{ {example} }}"]
            return []
        problems = []
        for key in self.authorized_by:
            if key not in gates:
                problems.append(f"{where}: authorized_by names gate {key!r}, which is not one of the rule's devices "
                                f"({', '.join(gates) or 'none'}); use a gate's device id as the key")
        for g in gates:
            if g not in self.authorized_by:
                problems.append(f"{where}: gate {g!r} has no entry in authorized_by; add {g} = [\"<its reader>\", "
                                f"...] (or {g} = [] when only its own button and releases open it)")
        return problems

    def authorizes_gate(self, device: str, gate: str) -> bool:
        """Whether an authorizing event of ``device`` excuses an opening of ``gate``."""
        if device == gate:
            return True
        if isinstance(self.authorized_by, dict):
            return any(fnmatch.fnmatchcase(device, p) for p in self.authorized_by.get(gate, ()))
        return any(fnmatch.fnmatchcase(device, p) for p in self.authorized_by)


class AfterHoursAccessRule(RuleBase):
    """``kind = "after_hours_access"``: a card, exit button, release or opening while closed (by [calendar])."""

    kind: Literal["after_hours_access"]
    contact: bool = True
    """Also count the contact opening (not only card/button/release events)."""
    latch: bool = True
    """Latched by default: the alert stays until acknowledged even when the gate is closed again."""


class WaterLeakRule(RuleBase):
    """``kind = "water_leak"``: the ``water_leak`` metric is "leak" (for an optional duration)."""

    kind: Literal["water_leak"]
    for_: Duration = Field(default=0.0, alias="for")
    """How long the sensor must report water before the alert opens."""


#: One ``[[rules]]`` entry, chosen by its ``kind``.
RuleSettings = Annotated[
    ThresholdRule
    | StaleRule
    | ContinuousFlowRule
    | ClosedHoursUseRule
    | GateHeldOpenRule
    | GateForcedRule
    | AfterHoursAccessRule
    | WaterLeakRule,
    Field(discriminator="kind"),
]


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _english(message: str) -> str:
    return message


def check_rules(rules: Sequence[RuleBase], chains: set[str], devices: Sequence[str] | None = None,
                translate: Callable[[str], str] = _english) -> list[str]:
    """Problems across rules: duplicate ids, chains that do not exist, device ids or globs matching no
    ``[[devices]]`` entry (when ``devices`` is given). ``translate`` turns each English text into the
    reader's language (``gateway.config`` passes the catalogs; this module stays free of them)."""
    problems, seen = [], set()
    known_chains = ", ".join(sorted(chains)) or translate("none defined")
    known = ", ".join(dict.fromkeys(devices or ()).keys())
    for i, r in enumerate(rules):
        if r.id and r.id in seen:
            problems.append(f"rules[{i}].id = {_quoted(r.id)}: "
                            + translate("used twice; every [[rules]] id must be unique"))
        seen.add(r.id)
        if r.notify is not None and r.notify not in chains:
            problems.append(f"rules[{i}].notify = {_quoted(r.notify)} " + translate(
                "(rule {rule}): names no chain; add [notify.chains.{chain}] or use one of: {known}").format(
                rule=repr(r.id), chain=r.notify, known=known_chains))
        if devices is not None:
            # A misspelt id would leave a fridge or a gate silently unwatched: refuse it at start.
            for key in ("devices", "authorized_by"):
                patterns = r.authorizer_patterns() if key == "authorized_by" and isinstance(
                    r, GateForcedRule) else getattr(r, key, ())
                for pattern in patterns:
                    if not any(fnmatch.fnmatchcase(d, pattern) for d in devices):
                        problems.append(f"rules[{i}].{key} entry {_quoted(pattern)} " + translate(
                            "(rule {rule}): matches no [[devices]] id (configured: {known}); fix the id "
                            "or glob, or add the device").format(rule=repr(r.id), known=known or "none"))
            if isinstance(r, GateForcedRule):
                problems.extend(r.gate_problems(devices))
    return problems
