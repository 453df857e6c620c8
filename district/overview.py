"""The Overview's rows: every site with its state, alerts and last reading, what needs a phone call first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from district.board import SiteState
from gateway.district_settings import DistrictSettings

SEVERITIES = ("critical", "major", "minor", "warning")
#: A site whose newest reading is older than this is flagged (the sensors or the uplink to the store are stuck).
STALE_READING_S = 30 * 60.0


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One line of the Overview."""

    id: str
    name: str
    online: bool | None
    since: float | None
    #: Open alerts per severity (``SEVERITIES``), acknowledged or not.
    alerts: dict[str, int]
    #: Open critical alerts nobody acknowledged.
    unacked_critical: int
    #: When the oldest unacknowledged critical alert opened, and its rule and device.
    oldest_critical_at: float | None
    oldest_critical_rule: str
    oldest_critical_device: str
    last_reading_at: float | None
    devices_offline: int
    #: 0: call now (unacknowledged critical alert), 1: offline, 2: other open alerts or stale data, 3: all well.
    urgency: int

    def doc(self) -> dict[str, Any]:
        """The JSON object of the API."""
        return asdict(self)


def _urgency(unacked_critical: int, online: bool | None, open_alerts: int, stale: bool) -> int:
    if unacked_critical:
        return 0
    if online is not True:
        return 1
    if open_alerts or stale:
        return 2
    return 3


def rows(settings: DistrictSettings, states: Mapping[str, SiteState], last_readings: Mapping[str, float],
         now: float) -> list[SiteRow]:
    """Every ``[[sites]]`` entry (and sites that report without one), sorted so what needs a call comes first:
    unacknowledged critical alerts (oldest first), offline sites (longest first), other trouble, then the rest."""
    ids = [s.id for s in settings.sites] + sorted(set(states) - {s.id for s in settings.sites})
    out = []
    for site_id in ids:
        conf = settings.site(site_id)
        st = states.get(site_id, SiteState())
        counts = dict.fromkeys(SEVERITIES, 0)
        for a in st.alerts.values():
            counts[a.severity] = counts.get(a.severity, 0) + 1
        crit = sorted((a for a in st.alerts.values() if a.severity == "critical" and not a.acknowledged),
                      key=lambda a: a.opened_at)
        last = last_readings.get(site_id)
        stale = last is None or now - last > STALE_READING_S
        out.append(SiteRow(
            id=site_id, name=(conf.name if conf and conf.name else site_id), online=st.online, since=st.since,
            alerts=counts, unacked_critical=len(crit),
            oldest_critical_at=crit[0].opened_at if crit else None,
            oldest_critical_rule=crit[0].rule if crit else "", oldest_critical_device=crit[0].device if crit else "",
            last_reading_at=last, devices_offline=st.devices_offline,
            urgency=_urgency(len(crit), st.online, len(st.alerts), stale)))
    big = float("inf")
    out.sort(key=lambda r: (r.urgency, r.oldest_critical_at or big, r.since or big if r.urgency == 1 else 0.0,
                            -sum(r.alerts.values()), r.name))
    return out
