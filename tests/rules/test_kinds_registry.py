"""The rule kinds the config accepts and the evaluators the engine runs are the same set."""

from __future__ import annotations

from typing import get_args

from gateway.rules.kinds import EVALUATORS
from gateway.rules.settings import RuleSettings


def test_every_configurable_rule_kind_has_an_evaluator_and_no_evaluator_is_unreachable() -> None:
    models = get_args(get_args(RuleSettings)[0])
    kinds = {get_args(m.model_fields["kind"].annotation)[0] for m in models}
    assert kinds == set(EVALUATORS)
