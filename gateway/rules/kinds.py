"""The registry of rule evaluators: one small module per kind exposing ``SETTINGS`` and ``EVALUATOR``.

The settings models (and ``RuleSettings``, ``check_rules``) are in ``gateway.rules.settings``.
"""

from __future__ import annotations

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
from gateway.rules.base import Evaluator
from gateway.rules.settings import RuleBase

_MODULES = (threshold, stale, continuous_flow, closed_hours_use, gate_held_open, gate_forced,
            after_hours_access, water_leak)

#: kind name -> evaluator class
EVALUATORS: dict[str, type[Evaluator]] = {
    m.SETTINGS.model_fields["kind"].annotation.__args__[0]: m.EVALUATOR
    for m in _MODULES
}


def evaluator_for(settings: RuleBase) -> type[Evaluator]:
    """The evaluator class of a rule's kind."""
    return EVALUATORS[getattr(settings, "kind")]  # noqa: B009
