"""Response models of the JSON API, so ``/api/openapi.json`` says what every route answers.

The JSON is the one the routes always sent. Where a record is a dataclass serialised whole
(``asdict``), the dataclass itself is the model: one place for its fields. Models allow extra keys, so a
field added to a record reaches clients before it is described here (a test walks the API and fails on any
key the schema does not name).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from dashboard.views import AreaStatus, DeviceRow
from gateway.gate.access import AccessRecord
from gateway.gate.handover import Handover
from gateway.gate.patrols import CheckIn, Round
from gateway.reports.samples import Dish, SampleEvent
from gateway.reports.sheet import Check, Correction, SheetAlert


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Ok(_Out):
    """``{"ok": true}``."""

    ok: bool


class MeOut(_Out):
    """The logged-in user."""

    username: str
    display_name: str
    role: str
    locale: str
    csrf_token: str


class AlertOut(_Out):
    """An alert, with its area, device and rule names and its detail in words."""

    id: int
    rule: str
    device: str
    kind: str
    severity: str
    state: str
    chain: str | None
    metric: str | None
    value: float | None
    detail: str
    since: float
    opened_at: float
    acked_by: str | None
    acked_at: float | None
    ack_note: str | None
    ended_at: float | None
    cleared_at: float | None
    area: str
    device_name: str
    rule_name: str
    detail_text: str


class TimelineEntry(_Out):
    """One step of an alert's history."""

    ts: float
    what: str
    by: str | None
    note: str | None
    value: float | None


class AlertDetailOut(AlertOut):
    """An alert with its timeline."""

    timeline: list[TimelineEntry]


class OverviewOut(_Out):
    """Open alerts and each area's light."""

    alerts: list[AlertOut]
    areas: list[AreaStatus]
    devices_offline: int
    now: float


class ColdCard(_Out):
    """A fridge's card: now, today's min/max, its limits and today's alerts."""

    device: DeviceRow
    temperature: float | None
    min_today: float | None
    max_today: float | None
    limit_low: float | None
    limit_high: float | None
    alerts: list[AlertOut]


class MeterCard(_Out):
    """A meter's card: today, this week against last week, the rate now and the night baseline."""

    device: DeviceRow
    usage_metric: str
    rate_metric: str
    unit: str
    rate_unit: str
    today: float
    this_week: float
    last_week: float
    last_week_to_date: float
    change_pct: float | None
    rate: float | None
    night_baseline: float | None


class LatestOut(_Out):
    """The cold-storage and utilities cards."""

    cold_storage: list[ColdCard]
    utilities: list[MeterCard]


class ReadingsOut(_Out):
    """Readings of one metric, raw or aggregated, as two parallel arrays."""

    device: str
    metric: str
    start: float
    end: float
    every: float | None
    fn: str
    ts: list[float]
    values: list[float]


class DeviceEvent(_Out):
    """One event of a gate device (card read, button, release)."""

    ts: float
    device: str
    type: str
    data: dict[str, Any]


class UserOut(_Out):
    """A dashboard user."""

    username: str
    display_name: str
    role: str
    locale: str | None
    disabled: bool
    created_at: float


# -- gate ------------------------------------------------------------------------------------------
class ReleaseOut(_Out):
    """A release command sent."""

    relay: str
    sent: bool


class WatchOut(_Out):
    """A person refused entry (never the ID hash)."""

    id: int
    name: str
    phone: str
    has_id: bool
    reason: str
    added_by: str
    added_at: float


class VisitorOut(_Out):
    """A visit (the ID number masked)."""

    id: int
    created_at: float
    name: str
    phone: str
    organisation: str
    purpose: str
    host: str
    id_masked: str
    has_photo: bool
    status: str
    watch: WatchOut | None
    registered_by: str
    decided_by: str | None
    decided_at: float | None
    decision_note: str | None
    signed_in_at: float | None
    signed_out_at: float | None
    approval_error: str | None


class OnSiteOut(_Out):
    """Who is on site now."""

    visitors: list[VisitorOut]
    contractors: list[AccessRecord]
    ts: float


class CardOut(_Out):
    """A registered card and its rule."""

    id: int
    uid: str
    holder: str
    kind: str
    days: str
    hours: str
    valid_from: str | None
    valid_until: str | None
    disabled: bool
    note: str
    updated_at: float


class PatrolsOut(_Out):
    """Rounds and check-ins."""

    rounds: list[Round]
    checkins: list[CheckIn]


class HandoverPrefill(_Out):
    """What the handover page starts with."""

    shift_start: float
    now: float
    alerts: list[dict[str, Any]]
    visitors: list[VisitorOut]
    contractors: list[AccessRecord]
    access: list[AccessRecord]
    rounds: list[Round]
    visitors_today: int


class HandoverOut(_Out):
    """The prefilled handover and the last ones written."""

    prefill: HandoverPrefill
    handovers: list[Handover]


# -- reports ---------------------------------------------------------------------------------------
class FindingOut(_Out):
    """One finding of the weekly report."""

    kind: str
    device: str
    money: float
    risk: int
    text: str


class WeekDayOut(_Out):
    """One day of a meter's week."""

    day: str
    units: float
    cost: float
    open: bool
    closed_units: float
    night_baseline: float | None


class MeterWeekOut(_Out):
    """A meter's week."""

    device: str
    name: str
    unit: str
    total: float
    cost: float
    last_week: float | None
    avg_4w: float | None
    vs_last_pct: float | None
    vs_avg_pct: float | None
    closed_units: float
    closed_cost: float
    baseline_unit: str
    baseline_avg: float | None
    baseline_prev: float | None
    baseline_slope: float | None
    hourly: list[float]
    days: list[WeekDayOut]


class WeeklyOut(_Out):
    """The weekly utility report's numbers and findings."""

    week: str
    start: float
    end: float
    currency: str
    total_cost: float
    findings: list[FindingOut]
    meters: list[MeterWeekOut]


class SheetLineOut(_Out):
    """One device's line on one day's cold-storage sheet."""

    device: str
    name: str
    kind: str
    day: str
    low: float | None
    high: float | None
    checks: list[Check]
    min: float | None
    min_at: float | None
    max: float | None
    max_at: float | None
    minutes_out: float
    readings: int
    frozen: bool
    unavailable: bool
    alerts: list[SheetAlert]
    corrections: list[Correction]


class SheetOut(_Out):
    """A day's (``day``) or a month's (``month``) sheet lines."""

    day: str | None = None
    month: str | None = None
    lines: list[SheetLineOut]


class SampleOut(_Out):
    """One meal's samples, its status and history; ``current`` has the corrections applied."""

    id: int
    meal_date: str
    meal: str
    dishes: list[Dish]
    fridge: str
    staff: str
    taken_at: float
    registered_at: float
    registered_by: str
    due_at: float
    status: str
    events: list[SampleEvent]
    current: dict[str, Any]


class LedgerSampleOut(SampleOut):
    """A sample in a month's ledger, with its verdict."""

    kept_ok: bool
    verdict: str


class SamplesOut(_Out):
    """A month's samples."""

    month: str
    samples: list[LedgerSampleOut]


class SampleRegistered(_Out):
    """The registered sample and what to point out about it."""

    sample: SampleOut
    warnings: list[str]


class SampleDiscarded(_Out):
    """The discarded sample."""

    sample: SampleOut
