"""Building the inspections' parts from the config (used by the composition root and the dashboard)."""

from __future__ import annotations

from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.inspections.disinfection import DisinfectionRecord


def build_disinfection(config: Config, events_db: EventsDB, clock: Clock) -> DisinfectionRecord:
    """The disinfection record of the site, on its school calendar."""
    calendar = SchoolCalendar(config.calendar, config.site.tz)
    return DisinfectionRecord(config.inspections.disinfection, calendar, events_db, clock)
