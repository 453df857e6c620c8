"""What use costs under a tariff: flat, peak/valley (峰谷) by local hour, or tiered (阶梯) by month-to-date use.

Costs are computed per small bucket of use (``Use``: when, how much in billing units), so the same
numbers serve the week's total, each day, and the share used while the school was closed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from gateway.i18n import translations
from gateway.reports.settings import FlatTariff, PeakValleyTariff, Tariff, TieredTariff


@dataclass(frozen=True, slots=True)
class Use:
    """Use in billing units (m³, kWh) in a bucket that starts at ``ts``."""

    ts: float
    units: float


def bucket_costs(tariff: Tariff | None, uses: Sequence[Use], tz: tzinfo,
                 month_before: Mapping[date, float] | None = None) -> list[float]:
    """The cost of each bucket in ``uses`` (zeros without a tariff).

    For a tiered tariff, ``month_before`` gives for each local date the units used earlier in the same
    month before that date (the buckets' own days are added in order); a day's cost is what its use adds
    to the month's bill, spread over its buckets in proportion to their use.
    """
    if tariff is None:
        return [0.0] * len(uses)
    if isinstance(tariff, FlatTariff):
        return [u.units * tariff.price for u in uses]
    if isinstance(tariff, PeakValleyTariff):
        prices = tariff.hourly_prices()
        return [u.units * prices[datetime.fromtimestamp(u.ts, tz).hour] for u in uses]
    return _tiered(tariff, uses, tz, month_before or {})


def _tiered(tariff: TieredTariff, uses: Sequence[Use], tz: tzinfo, month_before: Mapping[date, float]) -> list[float]:
    days: dict[date, float] = defaultdict(float)
    day_of: list[date] = []
    for u in uses:
        d = datetime.fromtimestamp(u.ts, tz).date()
        day_of.append(d)
        days[d] += u.units
    rate: dict[date, float] = {}
    running: dict[tuple[int, int], float] = {}
    for d in sorted(days):
        month = (d.year, d.month)
        before = running.get(month, month_before.get(d, 0.0))
        used = days[d]
        cost = tariff.cost_of_month_total(before + used) - tariff.cost_of_month_total(before)
        rate[d] = cost / used if used else 0.0
        running[month] = before + used
    return [u.units * rate[d] for u, d in zip(uses, day_of, strict=True)]


#: Band names with a word in the catalogs (context "tariff"): 峰/谷/平/尖. Other names are as configured.
BAND_WORDS = frozenset({"peak", "valley", "flat", "off-peak", "sharp", "shoulder"})


def band_name(name: str, locale: str) -> str:
    """A time-of-use band's name for people: ``peak`` -> 峰时 in zh-CN; a name of the site's own as it is."""
    return str(translations(locale).pgettext("tariff", name)) if name in BAND_WORDS else name


def unit_price_note(tariff: Tariff | None, currency: str, unit: str, locale: str = "en") -> str:
    """A short description of the tariff for report footers, e.g. ``"¥4.20/m³"``, band names in ``locale``."""
    if tariff is None:
        return ""
    if isinstance(tariff, FlatTariff):
        return f"{currency}{tariff.price:.2f}/{unit}"
    if isinstance(tariff, PeakValleyTariff):
        bands = ", ".join(f"{band_name(b.name, locale) + ' ' if b.name else ''}{b.label} {currency}{b.price:.2f}"
                          for b in tariff.bands)
        return f"{bands}; {currency}{tariff.price:.2f}/{unit}"
    parts = []
    for t in tariff.tiers:
        parts.append(f"≤{t.up_to:g} {currency}{t.price:.2f}" if t.up_to is not None else f"{currency}{t.price:.2f}")
    return " / ".join(parts) + f" /{unit}"
