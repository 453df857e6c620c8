"""``[inspections]``: the disinfection record (消毒记录) from UV lamps on smart plugs, per room, and checklists."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.calendar import WEEKDAYS, parse_days
from gateway.values import DaytimeWindow, Duration, Id, TimeWindow, parse_window

#: Ways a room is disinfected by hand (manual entries), as stored; people read them translated.
METHODS: tuple[str, ...] = ("uv", "spray", "wipe", "disinfectant")
Severity = Literal["critical", "major", "minor", "warning"]


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RoomSettings(_S):
    """``[[inspections.disinfection.rooms]]``: one room whose disinfection is recorded."""

    id: Id
    """Short id of the room (e.g. ``"class-1"``), used in links and files."""
    name: str = ""
    """The room's name for people (e.g. ``"小一班活动室"``); default: the id."""
    plug: str | None = None
    """The device id of the smart plug (Tasmota, Shelly, Zigbee2MQTT...) feeding the room's UV lamp; without it
    the room is recorded by manual entries only."""
    occupied: list[DaytimeWindow] | None = None
    """Hours children are in the room on a school day (e.g. ``["07:30-17:30"]``); default: the school calendar's
    opening hours. A UV lamp drawing power then is a safety alarm."""
    window: DaytimeWindow | None = None
    """Override of ``[inspections.disinfection] window`` for this room."""
    min_duration: Duration | None = None
    """Override of ``[inspections.disinfection] min_duration`` for this room."""
    lamp_hours_before: float = Field(default=0.0, ge=0)
    """Hours the lamp had burnt before Houqin counted (until the first replacement is recorded)."""

    @property
    def label(self) -> str:
        """The name for people: the configured name or the id."""
        return self.name or self.id


class DisinfectionSettings(_S):
    """``[inspections.disinfection]``: UV lamp sessions from power readings, the schedule and the lamp's life."""

    rooms: list[RoomSettings] = Field(default_factory=list)
    """The rooms whose disinfection is recorded."""
    threshold_w: float = Field(default=10.0, gt=0)
    """Power (W) above which a room's plug counts as the lamp being on."""
    warmup: Duration = Field(default=300.0, ge=0, le=3600)
    """Minutes after switch-on that do not count towards a session's duration (a UV lamp reaches its output
    after a few minutes), e.g. ``"5m"``."""
    min_duration: Duration = Field(default=1800.0, gt=0)
    """The shortest session that counts (after the warm-up), e.g. ``"30m"``."""
    window: DaytimeWindow = parse_window("18:00-24:00", cross_midnight=False)
    """When a day's session must start (local time), e.g. ``"18:00-24:00"`` (after the children have left); it may
    run past midnight."""
    days: Literal["school", "every"] = "school"
    """Which days need a session: ``"school"`` (days the school calendar opens) or ``"every"``."""
    judge_after: Duration = Field(default=10800.0, ge=0)
    """How long after the window ends a day is judged (a late session may still be running), e.g. ``"3h"``."""
    max_gap: Duration = Field(default=600.0, gt=0)
    """A plug silent this long while on ends its session at its last reading, e.g. ``"10m"``."""
    lamp_life_h: float = Field(default=1000.0, gt=0)
    """Hours a UV lamp lasts; at this many hours a replacement reminder is raised."""
    severity: Severity = "major"
    """Severity of "missed or too short" and lamp-life alerts."""
    safety_severity: Severity = "critical"
    """Severity of "UV lamp on while children are in the room"."""
    notify: str | None = None
    """Escalation chain (``[notify.chains.<name>]``) of these alerts; default: the alerts' default routing."""

    @model_validator(mode="after")
    def _unique_rooms(self) -> DisinfectionSettings:
        seen: set[str] = set()
        for r in self.rooms:
            if r.id in seen:
                raise ValueError(f"room id {r.id!r} is used twice; every room id must be unique")
            seen.add(r.id)
        return self

    def room(self, room_id: str) -> RoomSettings | None:
        """The room with this id, if configured."""
        return next((r for r in self.rooms if r.id == room_id), None)

    def window_of(self, room: RoomSettings) -> TimeWindow:
        """When the room's daily session must start."""
        return room.window or self.window

    def min_of(self, room: RoomSettings) -> float:
        """The room's shortest session that counts, in seconds."""
        return self.min_duration if room.min_duration is None else room.min_duration


class ItemSettings(_S):
    """One item of a checklist."""

    id: Id
    """Short id of the item, unique in its checklist (e.g. ``"fridge-temp"``)."""
    text: str
    """What to check, for people (e.g. ``"冰箱温度正常、门已关好"``)."""
    devices: list[str] = Field(default_factory=list)
    """Devices whose evidence is shown beside the item (a fridge's last 24 hours, a door's state, a meter's night
    use); a "pass" that the evidence contradicts (a door open now, a fridge out of range) is warned about."""


class ChecklistSettings(_S):
    """``[[inspections.checklists]]``: a check done on a schedule by a role (日查 / 周查 / 月查 / 放假前)."""

    id: Id
    """Short id of the checklist (e.g. ``"kitchen-daily"``), used in links."""
    name: str
    """Its name for people (e.g. ``"厨房每日安全检查"``)."""
    schedule: Literal["daily", "weekly", "monthly", "before_holiday"] = "daily"
    """``"daily"``, ``"weekly"`` (on ``weekday``), ``"monthly"`` (on ``day``) or ``"before_holiday"`` (the last
    school day before each holiday in ``[calendar] holidays``)."""
    weekday: str = "mon"
    """For ``"weekly"``: the day it is due (``mon``..``sun``)."""
    day: int = Field(default=1, ge=1, le=28)
    """For ``"monthly"``: the day of the month it is due (1-28)."""
    school_days_only: bool = True
    """Due only on days the school calendar opens (a daily check skips weekends and holidays; a weekly or monthly
    one falling on a closed day is not due that time)."""
    role: Literal["admin", "kitchen", "guard", "facilities"] = "facilities"
    """Who does it (admins may do every checklist)."""
    window: DaytimeWindow = parse_window("07:00-09:00", cross_midnight=False)
    """When on its due day it is done; not done by the window's end raises an alert."""
    items: list[ItemSettings] = Field(min_length=1)
    """What is checked."""
    severity: Severity = "minor"
    """Severity of "checklist not done"."""
    notify: str | None = None
    """Escalation chain of "checklist not done"; default: ``[inspections] notify``."""

    @model_validator(mode="after")
    def _valid(self) -> ChecklistSettings:
        if self.weekday not in WEEKDAYS:
            raise ValueError(f"weekday = {self.weekday!r}: use one of {', '.join(WEEKDAYS)}")
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"checklist {self.id!r}: item id {item.id!r} is used twice")
            seen.add(item.id)
        return self

    def item(self, item_id: str) -> ItemSettings | None:
        """The item with this id."""
        return next((i for i in self.items if i.id == item_id), None)


class HolidaySettings(_S):
    """``[inspections.holidays]``: proving the holiday shutdown by the meters, and who is on duty."""

    water_allowance_l: float = Field(default=2.0, ge=0)
    """Litres a water meter may count in an hour of a holiday before "water still used during the holiday"."""
    power_margin: float = Field(default=0.3, ge=0)
    """How far above its learned closed-time base load (as a share, 0.3 = 30 %) a power meter may draw in an hour
    of a holiday before "power still used during the holiday"."""
    power_slack_w: float = Field(default=50.0, ge=0)
    """Watts added to that limit, so a tiny base load does not alert on a few watts."""
    learn_days: int = Field(default=14, ge=3, le=90)
    """Days of closed hours (nights and weekends, not holidays) the base load is learned from."""
    duty: dict[str, str] = Field(default_factory=dict)
    """The duty roster (值班安排): date (``"2026-10-01"``) or range (``"2026-10-01..2026-10-03"``) -> who is on duty
    (a dashboard user name)."""
    duty_chains: dict[str, str] = Field(default_factory=dict)
    """Person on duty -> the escalation chain that reaches them first: every alert opened on a holiday day with
    a person on duty walks that chain, then (after ``duty_first``) its own."""
    duty_first: Duration = Field(default=900.0, ge=0, le=86400)
    """How long the person on duty has to acknowledge a holiday alert before its own chain is told."""
    severity: Severity = "major"
    """Severity of "still used during the holiday"."""

    @model_validator(mode="after")
    def _duty_days(self) -> HolidaySettings:
        for key in self.duty:
            parse_days([key])
        return self


class InspectionsSettings(_S):
    """``[inspections]``: records of the logistics office backed by the sensors."""

    disinfection: DisinfectionSettings = DisinfectionSettings()
    """The disinfection record (消毒记录) from UV lamps on smart plugs and manual entries."""
    checklists: list[ChecklistSettings] = Field(default_factory=list)
    """Checklists (日查 / 周查 / 月查 / 放假前) with their items, schedule, role and due window."""
    holidays: HolidaySettings = HolidaySettings()
    """The holiday shutdown proven by the meters, and the duty roster."""
    notify: str | None = None
    """Default escalation chain of "checklist not done" alerts."""
    max_photo_kb: int = Field(default=2048, ge=16, le=10240)
    """Largest photo (KiB) a checklist item, hazard or repair may carry; JPEG or PNG only."""
    hazard_owner: str = "admin"
    """User name that owns hazards opened from a failed checklist item (it may hand them on)."""
    immediate: Duration = Field(default=86400.0, gt=0)
    """Time to rectify a hazard marked "immediate", e.g. ``"1d"``."""
    hazard_severity: Severity = "major"
    """Severity of "hazard past its deadline" (a major hazard's alert is always critical)."""
    repair_due: Duration = Field(default=259200.0, gt=0)
    """A repair not done this long after it was reported is overdue, e.g. ``"3d"``."""

    @model_validator(mode="after")
    def _unique_checklists(self) -> InspectionsSettings:
        seen: set[str] = set()
        for c in self.checklists:
            if c.id in seen:
                raise ValueError(f"checklist id {c.id!r} is used twice; every checklist id must be unique")
            seen.add(c.id)
        return self

    def checklist(self, checklist_id: str) -> ChecklistSettings | None:
        """The checklist with this id."""
        return next((c for c in self.checklists if c.id == checklist_id), None)


def _english(message: str) -> str:
    return message


def check_inspections(s: InspectionsSettings, power_devices: Iterable[str], devices: Iterable[str],
                      chains: set[str], translate: Callable[[str], str] = _english) -> list[str]:
    """Problems with device and chain names ``[inspections]`` uses (in ``translate``'s language)."""
    problems: list[str] = []
    known, power = set(devices), set(power_devices)
    no_chain = translate("names no chain; add [notify.chains.{chain}] or fix the name")
    no_device = translate("is no [[devices]] id; add the device or fix the name")
    d = s.disinfection
    for r in d.rooms:
        if r.plug is None:
            continue
        if r.plug not in known:
            problems.append(f"[inspections.disinfection] room {r.id!r}: plug = {r.plug!r} " + no_device)
        elif r.plug not in power:
            problems.append(f"[inspections.disinfection] room {r.id!r}: plug = {r.plug!r} " + translate(
                "does not report power (power_w); give it kind = \"uv_lamp\" or \"power_meter\""))
    if d.notify is not None and d.notify not in chains:
        problems.append(f"[inspections.disinfection] notify = {d.notify!r} " + no_chain.format(chain=d.notify))
    for c in s.checklists:
        for item in c.items:
            problems.extend(f"[[inspections.checklists]] {c.id!r} item {item.id!r}: devices {dev!r} " + no_device
                            for dev in item.devices if dev not in known)
        if c.notify is not None and c.notify not in chains:
            problems.append(f"[[inspections.checklists]] {c.id!r}: notify = {c.notify!r} "
                            + no_chain.format(chain=c.notify))
    problems.extend(f"[inspections.holidays] duty_chains: {who!r} -> {chain!r} " + no_chain.format(chain=chain)
                    for who, chain in s.holidays.duty_chains.items() if chain not in chains)
    if s.notify is not None and s.notify not in chains:
        problems.append(f"[inspections] notify = {s.notify!r} " + no_chain.format(chain=s.notify))
    return problems
