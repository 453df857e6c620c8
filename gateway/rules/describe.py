"""A rule's condition in words, in the reader's language (alert messages, the dashboard's rule list)."""

from __future__ import annotations

from gateway.contract import METRICS
from gateway.i18n import tr
from gateway.rules.settings import (
    AfterHoursAccessRule,
    ClosedHoursUseRule,
    ContinuousFlowRule,
    GateForcedRule,
    GateHeldOpenRule,
    RuleBase,
    StaleRule,
    ThresholdRule,
    WaterLeakRule,
)
from gateway.values import format_duration

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


def _threshold(r: ThresholdRule, locale: str) -> str:
    unit = METRICS[r.metric].unit
    metric = tr(locale, r.metric)
    parts = []
    if r.above is not None:
        parts.append(tr(locale, "{metric} above {value} {unit}", metric=metric, value=r.above, unit=unit))
    if r.below is not None:
        parts.append(tr(locale, "{metric} below {value} {unit}", metric=metric, value=r.below, unit=unit))
    text = tr(locale, " or ").join(parts)
    if r.for_:
        text += tr(locale, " for {duration}", duration=dur(r.for_, locale))
    return text


def _closed_hours_use(r: ClosedHoursUseRule, locale: str) -> str:
    unit = METRICS[r.metric].unit
    per = tr(locale, "hour" if r.per == "hour" else "day")
    return tr(locale, "use while closed above {allowance} {unit} per {per}", allowance=r.allowance, unit=unit,
              per=per)


def _words(r: RuleBase, locale: str) -> str:
    if isinstance(r, ThresholdRule):
        return _threshold(r, locale)
    if isinstance(r, StaleRule):
        return tr(locale, "no data for {duration}", duration=dur(r.for_, locale))
    if isinstance(r, ContinuousFlowRule):
        return tr(locale, "flow never stopped for {duration}", duration=dur(r.for_, locale))
    if isinstance(r, ClosedHoursUseRule):
        return _closed_hours_use(r, locale)
    if isinstance(r, GateHeldOpenRule):
        return tr(locale, "gate held open for {duration}", duration=dur(r.for_, locale))
    if isinstance(r, GateForcedRule):
        return tr(locale, "gate opened without card, button or release")
    if isinstance(r, AfterHoursAccessRule):
        return tr(locale, "access while the school is closed")
    if isinstance(r, WaterLeakRule):
        return tr(locale, "water leak detected")
    return r.id


def describe(rule: RuleBase, locale: str) -> str:
    """The rule's ``name``, or else its condition in words, in ``locale``."""
    return rule.name or _words(rule, locale)


