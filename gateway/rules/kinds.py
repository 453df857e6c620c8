"""The registry of rule kinds: one small module per kind exposing ``SETTINGS`` and ``EVALUATOR``."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from gateway.rules import (
    after_hours_access,
    closed_hours_use,
    continuous_flow,
    gate_forced,
    gate_held_open,
    stale,
    threshold,
    water_leak,
)
from gateway.rules.base import Evaluator, RuleBase

_MODULES = (threshold, stale, continuous_flow, closed_hours_use, gate_held_open, gate_forced,
            after_hours_access, water_leak)

#: kind name -> evaluator class
EVALUATORS: dict[str, type[Evaluator]] = {
    m.SETTINGS.model_fields["kind"].annotation.__args__[0]: m.EVALUATOR
    for m in _MODULES
}

#: One ``[[rules]]`` entry, chosen by its ``kind``.
RuleSettings = Annotated[
    threshold.ThresholdRule
    | stale.StaleRule
    | continuous_flow.ContinuousFlowRule
    | closed_hours_use.ClosedHoursUseRule
    | gate_held_open.GateHeldOpenRule
    | gate_forced.GateForcedRule
    | after_hours_access.AfterHoursAccessRule
    | water_leak.WaterLeakRule,
    Field(discriminator="kind"),
]


def evaluator_for(settings: RuleBase) -> type[Evaluator]:
    """The evaluator class of a rule's kind."""
    return EVALUATORS[getattr(settings, "kind")]  # noqa: B009


def check_rules(rules: Sequence[RuleBase], chains: set[str], devices: Sequence[str] | None = None) -> list[str]:
    """Problems across rules: duplicate ids, chains that do not exist, device ids or globs matching no
    ``[[devices]]`` entry (when ``devices`` is given)."""
    problems, seen = [], set()
    for r in rules:
        if r.id in seen:
            problems.append(f"rule id {r.id!r} is used twice; every [[rules]] id must be unique")
        seen.add(r.id)
        if r.notify is not None and r.notify not in chains:
            problems.append(f"rule {r.id!r}: notify = {r.notify!r} names no chain; add [notify.chains.{r.notify}] "
                            "or fix the name")
        if devices is not None:
            # A misspelt id would leave a fridge or a gate silently unwatched: refuse it at start.
            for key in ("devices", "authorized_by"):
                patterns = r.authorizer_patterns() if key == "authorized_by" and isinstance(
                    r, gate_forced.GateForcedRule) else getattr(r, key, ())
                for pattern in patterns:
                    if not any(fnmatch.fnmatchcase(d, pattern) for d in devices):
                        known = ", ".join(devices[:8]) + (", ..." if len(devices) > 8 else "") or "none"
                        problems.append(f"rule {r.id!r}: {key} entry {pattern!r} matches no [[devices]] id "
                                        f"(configured: {known}); fix the id or glob, or add the device")
            if isinstance(r, gate_forced.GateForcedRule):
                problems.extend(r.gate_problems(devices))
    return problems
