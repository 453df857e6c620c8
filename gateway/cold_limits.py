"""Safe temperature ranges of cold storage (fridges, freezers, sample fridges, cold rooms): from the
threshold rules that name a device, else by its kind. Used by the cold-storage sheet and the dashboard."""

from __future__ import annotations

import fnmatch

from gateway.config import Config, DeviceSettings
from gateway.kinds import KINDS, Limits

NO_LIMITS: Limits = (None, None)


def kind_limits(device: DeviceSettings) -> Limits:
    """The default safe range of the device's kind (no limits for kinds that are not cold storage)."""
    return KINDS[device.kind].cold_limits or NO_LIMITS


def rule_limits(config: Config, device: DeviceSettings) -> Limits | None:
    """(low, high) from the temperature threshold rules naming the device (tightest wins); None if none do."""
    low = high = None
    found = False
    for rule in getattr(config, "rules", ()):
        if getattr(rule, "kind", "") != "threshold" or getattr(rule, "metric", "") != "temperature":
            continue
        if not any(fnmatch.fnmatchcase(device.id, p) for p in rule.devices):
            continue
        found = True
        above, below = getattr(rule, "above", None), getattr(rule, "below", None)
        if above is not None:
            high = above if high is None else min(high, above)
        if below is not None:
            low = below if low is None else max(low, below)
    return (low, high) if found else None


def cold_limits(config: Config, device: DeviceSettings) -> Limits:
    """The sheet's range: from the device's threshold rules when any name it, else by kind."""
    ruled = rule_limits(config, device)
    return ruled if ruled is not None else kind_limits(device)


def chart_limits(config: Config, device: DeviceSettings) -> Limits:
    """The dashboard's range: each side from the threshold rules when they set it, else by kind."""
    low, high = kind_limits(device)
    rule_low, rule_high = rule_limits(config, device) or (None, None)
    return (rule_low if rule_low is not None else low, rule_high if rule_high is not None else high)
