"""``[reports]``: weekly utility report schedule and delivery, tariffs, cold-storage sheet, sample ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.calendar import WEEKDAYS
from gateway.values import ClockTime, Duration, format_clock, parse_clock

DAY = 86_400.0
#: Records an inspection may ask for are kept at least this long.
MIN_KEEP = 365 * DAY


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)


class FlatTariff(_S):
    """``kind = "flat"``: one price per unit (元 per m³ of water, per kWh of electricity)."""

    kind: Literal["flat"]
    price: float = Field(ge=0)
    """Price per unit (m³ or kWh)."""


class TouBand(_S):
    """One time-of-use band, ``from``-``to`` in local time on whole hours (e.g. peak 08:00-11:00)."""

    name: str = ""
    """Name of the band for people (e.g. ``"peak"``)."""
    start: time = Field(alias="from")
    """Local time the band starts, on a whole hour."""
    end: time = Field(alias="to")
    """Local time the band ends, on a whole hour (may be before ``from``: past midnight)."""
    price: float = Field(ge=0)
    """Price per kWh in this band."""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hour(cls, v: object) -> time:
        t = parse_clock(v, end_of_day=True)
        if t.minute:
            raise ValueError(f"{v!r}: bands start and end on whole hours (e.g. \"08:00\")")
        return t

    def hours(self) -> set[int]:
        """The local hours (0-23) this band covers; a band may wrap past midnight (23:00-07:00)."""
        a, b = self.start.hour, self.end.hour or 24
        return set(range(a, b)) if a < b else set(range(a, 24)) | set(range(b))

    @property
    def label(self) -> str:
        """``"08:00-11:00"`` for people."""
        return f"{format_clock(self.start)}-{'24:00' if self.end == time(0) else format_clock(self.end)}"


class PeakValleyTariff(_S):
    """``kind = "peak_valley"``: 峰谷电价, a price per time-of-day band; ``price`` outside every band (平段)."""

    kind: Literal["peak_valley"]
    price: float = Field(ge=0)
    """Price per kWh outside every band (平段)."""
    bands: list[TouBand] = Field(min_length=1)
    """Time-of-day bands with their prices (e.g. peak ``"08:00"``-``"11:00"``)."""

    @model_validator(mode="after")
    def _no_overlap(self) -> PeakValleyTariff:
        seen: set[int] = set()
        for b in self.bands:
            if seen & b.hours():
                raise ValueError(f"band {b.name or b.start}: overlaps another band; each hour has one price")
            seen |= b.hours()
        return self

    def hourly_prices(self) -> list[float]:
        """The price of each local hour 0-23."""
        prices = [self.price] * 24
        for b in self.bands:
            for h in b.hours():
                prices[h] = b.price
        return prices


class Tier(_S):
    """One block of a tiered (阶梯) tariff: the price of units up to ``up_to`` per month (None: the rest)."""

    up_to: float | None = Field(default=None, gt=0)
    """Monthly use (m³ or kWh) this block prices up to; none: everything above."""
    price: float = Field(ge=0)
    """Price per unit in this block."""


class TieredTariff(_S):
    """``kind = "tiered"``: 阶梯价, blocks of monthly use at rising prices, counted from the 1st of the month."""

    kind: Literal["tiered"]
    tiers: list[Tier] = Field(min_length=1)
    """Blocks of monthly use in rising order; the last has no ``up_to``."""

    @model_validator(mode="after")
    def _ordered(self) -> TieredTariff:
        limits = [t.up_to for t in self.tiers]
        if limits[-1] is not None:
            raise ValueError("the last tier must have no up_to (it prices everything above)")
        if any(x is None for x in limits[:-1]):
            raise ValueError("only the last tier may leave out up_to")
        bounded = [x for x in limits if x is not None]
        if bounded != sorted(bounded) or len(set(bounded)) != len(bounded):
            raise ValueError("tiers must be in rising order of up_to")
        return self

    def cost_of_month_total(self, units: float) -> float:
        """What ``units`` used from the start of the month cost in all."""
        cost, below = 0.0, 0.0
        for t in self.tiers:
            top = units if t.up_to is None else min(units, t.up_to)
            if top > below:
                cost += (top - below) * t.price
            if t.up_to is not None:
                below = t.up_to
            if units <= below:
                break
        return cost


Tariff = Annotated[FlatTariff | PeakValleyTariff | TieredTariff, Field(discriminator="kind")]


class TariffSettings(_S):
    """``[reports.tariff]``: ``water`` per m³ and ``power`` per kWh; ``devices`` overrides per meter id."""

    currency: str = "¥"
    """Currency sign in reports."""
    water: Tariff | None = None
    """Price of water per m³."""
    power: Tariff | None = None
    """Price of electricity per kWh."""
    devices: dict[str, Tariff] = Field(default_factory=dict)
    """A meter with its own tariff, by device id."""

    def for_meter(self, device: str, water: bool) -> Tariff | None:
        """The tariff that prices this meter, if any."""
        return self.devices.get(device) or (self.water if water else self.power)


class WeeklySettings(_S):
    """``[reports.weekly]``: when the weekly utility report goes out, and where."""

    enabled: bool = True
    """Send the weekly utility report."""
    day: str = "mon"
    """Weekday (``mon``..``sun``) and local time it is sent, about the week that just ended."""
    at: ClockTime = time(8, 0)
    """Local time (``HH:MM``) on ``day`` it is sent."""
    channels: list[str] = Field(default_factory=list)
    """Names of ``[notify.channels]``: webhooks get the Markdown summary, e-mail the HTML with charts."""
    link: str = ""
    """Dashboard address for the "full report" link in messages (e.g. "http://houqin.local:8080")."""

    @field_validator("day")
    @classmethod
    def _day(cls, v: str) -> str:
        if v not in WEEKDAYS:
            raise ValueError(f"use one of {', '.join(WEEKDAYS)}")
        return v


class SheetSettings(_S):
    """``[reports.sheet]``: the daily cold-storage sheet."""

    check_times: list[ClockTime] = Field(default_factory=lambda: [time(8, 0), time(14, 0)], min_length=1)
    """Local times whose readings are written on the sheet (the AM/PM checks)."""
    check_window: Duration = 900.0
    """A check takes the reading nearest its time within this much."""
    keep: Duration = 400 * DAY
    """Sheets, corrections and samples are kept this long (at least 12 months)."""

    @property
    def check_labels(self) -> list[str]:
        """The check times as the sheet shows and records them (``"08:00"``)."""
        return [format_clock(t) for t in self.check_times]

    @field_validator("keep")
    @classmethod
    def _keep(cls, v: float) -> float:
        if v < MIN_KEEP:
            raise ValueError("must be at least \"365d\": inspections ask for 12 months of records")
        return v


class SampleSettings(_S):
    """``[reports.samples]``: the 48-hour food-sample ledger (留样)."""

    hold: Duration = 48 * 3600.0
    """How long each sample is kept and watched."""
    min_grams: float = Field(default=125.0, gt=0)
    """A dish sampled with fewer grams gets a warning."""
    low: float = 0.0
    """Lowest safe temperature of the samples, °C."""
    high: float = 8.0
    """Highest safe temperature of the samples, °C."""
    grace: Duration = 600.0
    """A fridge outside [low, high] for this long compromises the samples in it (door openings pass)."""
    meals: list[str] = Field(default_factory=lambda: ["breakfast", "lunch", "snack", "dinner"], min_length=1)
    """The meals offered on the registration form."""
    notify: str | None = None
    """Escalation chain in ``[notify.chains]`` for "sample compromised" alerts (none: shown only)."""
    remind_channels: list[str] = Field(default_factory=list)
    """Channels told when samples may be discarded (48 h reached)."""
    severity: Literal["critical", "major", "minor", "warning"] = "critical"
    """Severity of the ``food-sample`` alert."""

    @model_validator(mode="after")
    def _range(self) -> SampleSettings:
        if self.high <= self.low:
            raise ValueError("high must be above low")
        return self


class ReportsSettings(_S):
    """``[reports]``: weekly utility report, tariffs, cold-storage sheet and the sample ledger."""

    locale: Literal["zh-CN", "en"] | None = None
    """Language of reports and messages; default ``[site] locale``."""
    weekly: WeeklySettings = WeeklySettings()
    """The weekly water and electricity report."""
    tariff: TariffSettings = TariffSettings()
    """Prices for costs in reports."""
    sheet: SheetSettings = SheetSettings()
    """The daily cold-storage sheet."""
    samples: SampleSettings = SampleSettings()
    """The 48-hour food-sample ledger."""


def _english(message: str) -> str:
    return message


def check_reports(reports: ReportsSettings, channels: set[str], chains: set[str],
                  translate: Callable[[str], str] = _english) -> list[str]:
    """Problems with names ``[reports]`` uses that ``[notify]`` does not define (in ``translate``'s language)."""
    problems = []
    not_there = translate("names {name}, which is not in [notify.channels]; add it or fix the name")
    for name in reports.weekly.channels:
        if name not in channels:
            problems.append("[reports.weekly] channels " + not_there.format(name=repr(name)))
    for name in reports.samples.remind_channels:
        if name not in channels:
            problems.append("[reports.samples] remind_channels " + not_there.format(name=repr(name)))
    if reports.samples.notify is not None and reports.samples.notify not in chains:
        problems.append(f"[reports.samples] notify = {reports.samples.notify!r} " + translate(
            "names no chain; add [notify.chains.{chain}] or fix the name").format(chain=reports.samples.notify))
    return problems
