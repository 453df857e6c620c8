"""Times shared by the store tests: time zones and a round day far from any DST change."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 2026-03-02 00:00 UTC.
T0 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
H = 3600.0
D = 86400.0
