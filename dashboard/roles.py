"""Roles and the table of which roles may use each route; a route missing from the table is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Role = Literal["admin", "guard", "kitchen", "facilities", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)

_ALL: frozenset[str] = frozenset(ROLES)
_GATE = frozenset({"admin", "guard", "viewer"})
_COLD = frozenset({"admin", "kitchen", "viewer"})
_UTIL = frozenset({"admin", "facilities", "viewer"})
_ACTORS = frozenset({"admin", "guard", "kitchen", "facilities"})
_ADMIN = frozenset({"admin"})
_KITCHEN = frozenset({"admin", "kitchen"})
_GUARD = frozenset({"admin", "guard"})
#: Who may see people's names, phones and hosts (visitors, card holders on site): the gate's roles only,
#: never the kitchen or the facilities staff (PIPL: the minimum necessary).
_PERSONAL = _GATE

#: Routes anyone may reach without logging in (the login page, assets, health for the supervisor).
PUBLIC: frozenset[str] = frozenset({"/login", "/static", "/healthz", "/metrics",
                                   "/v"})  # /v/{token}: visitor approval by signed, expiring link

#: Which area an acting role may acknowledge alerts of (admin acknowledges everything).
ACK_AREAS: Mapping[str, frozenset[str]] = {
    "guard": frozenset({"gate"}),
    "kitchen": frozenset({"cold_storage"}),
    "facilities": frozenset({"utilities", "other"}),
}

#: ``(method, path template) -> roles``; every route of the app must be here or in PUBLIC.
ACCESS: Mapping[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): _ALL,
    ("GET", "/gate"): _GATE,
    ("GET", "/cold"): _COLD,
    ("GET", "/utilities"): _UTIL,
    ("GET", "/alerts"): _ALL,
    ("GET", "/alerts/{alert_id}"): _ALL,
    ("POST", "/alerts/{alert_id}/ack"): _ACTORS,
    ("GET", "/devices"): _ALL,
    ("GET", "/admin"): _ADMIN,
    ("POST", "/admin/users"): _ADMIN,
    ("POST", "/admin/users/{username}"): _ADMIN,
    ("POST", "/logout"): _ALL,
    ("GET", "/account"): _ALL,
    ("POST", "/account/locale"): _ALL,
    ("POST", "/account/password"): _ALL,
    ("GET", "/api/me"): _ALL,
    ("GET", "/api/overview"): _ALL,
    ("GET", "/api/devices"): _ALL,
    ("GET", "/api/devices/{device_id}/readings"): _ALL,
    ("GET", "/api/latest"): _ALL,
    ("GET", "/api/alerts"): _ALL,
    ("GET", "/api/alerts/{alert_id}"): _ALL,
    ("POST", "/api/alerts/{alert_id}/ack"): _ACTORS,
    ("GET", "/api/gate/events"): _GATE,
    ("GET", "/api/users"): _ADMIN,
    ("GET", "/api/live"): _ALL,
    ("GET", "/api/ping"): _ALL,
    ("GET", "/api/openapi.json"): _ALL,
    # Reports (dashboard/routes/reports.py): weekly utility report, cold-storage sheet, food-sample ledger.
    ("GET", "/reports/reports.css"): _ALL,
    ("GET", "/reports/weekly"): _UTIL,
    ("GET", "/reports/weekly/print"): _UTIL,
    ("GET", "/reports/weekly.csv"): _UTIL,
    ("GET", "/api/reports/weekly"): _UTIL,
    ("GET", "/cold/sheet"): _COLD,
    ("GET", "/cold/sheet/print"): _COLD,
    ("GET", "/cold/sheet/month"): _COLD,
    ("GET", "/cold/sheet/month/print"): _COLD,
    ("GET", "/cold/sheet.csv"): _COLD,
    ("POST", "/cold/sheet/corrections"): _KITCHEN,
    ("GET", "/api/reports/sheet"): _COLD,
    ("GET", "/samples"): _COLD,
    ("GET", "/samples/print"): _COLD,
    ("GET", "/samples.csv"): _COLD,
    ("POST", "/samples"): _KITCHEN,
    ("POST", "/samples/{sample_id}/discard"): _KITCHEN,
    ("GET", "/api/samples"): _COLD,
    # Gate guard's work (dashboard/routes/gate_work.py): desk, visitors, watch list, roll call, patrols,
    # handover, card registry (admins).
    ("GET", "/gate/desk"): _PERSONAL,
    ("POST", "/gate/visitors"): _GUARD,
    ("POST", "/gate/visitors/{visitor_id}/{action}"): _GUARD,
    ("GET", "/gate/visitors/{visitor_id}/photo"): _PERSONAL,
    ("POST", "/gate/watch"): _GUARD,
    ("POST", "/gate/watch/{entry_id}/delete"): _ADMIN,
    ("GET", "/gate/rollcall"): _PERSONAL,
    ("POST", "/gate/release/{relay}"): _GUARD,  # the gate page's lock release button (audited)
    ("GET", "/gate/patrols"): _GATE,
    ("GET", "/gate/handover"): _GATE,
    ("POST", "/gate/handover"): _GUARD,
    ("POST", "/gate/handover/{handover_id}/ack"): _GUARD,
    ("GET", "/gate/cards"): _ADMIN,
    ("POST", "/gate/cards"): _ADMIN,
    ("POST", "/gate/cards/{card_id}"): _ADMIN,
    ("GET", "/api/gate/access"): _GATE,
    ("POST", "/api/gate/release/{relay}"): _GUARD,
    ("GET", "/api/gate/onsite"): _PERSONAL,
    ("GET", "/api/gate/visitors"): _PERSONAL,
    ("POST", "/api/gate/visitors"): _GUARD,
    ("POST", "/api/gate/visitors/{visitor_id}/{action}"): _GUARD,
    ("GET", "/api/gate/cards"): _ADMIN,
    ("POST", "/api/gate/cards"): _ADMIN,
    ("GET", "/api/gate/patrols"): _GATE,
    ("GET", "/api/gate/handover"): _GATE,
    ("POST", "/api/samples"): _KITCHEN,
    ("POST", "/api/samples/{sample_id}/discard"): _KITCHEN,
    # Inspections (dashboard/routes/inspections.py): the disinfection record; the health teacher (kitchen
    # role) and facilities record disinfections, facilities fit new lamps.
    ("GET", "/disinfection"): _ALL - {"guard"},
    ("GET", "/disinfection/print"): _ALL - {"guard"},
    ("GET", "/disinfection.csv"): _ALL - {"guard"},
    ("POST", "/disinfection/manual"): frozenset({"admin", "facilities", "kitchen"}),
    ("POST", "/disinfection/{room_id}/lamp"): frozenset({"admin", "facilities"}),
    ("GET", "/api/disinfection"): _ALL - {"guard"},
    ("POST", "/api/disinfection/manual"): frozenset({"admin", "facilities", "kitchen"}),
    # Checklists (dashboard/routes/checks.py): each checklist's role (and admins) does it, checked per checklist.
    ("GET", "/checks"): _ALL,
    ("GET", "/checks/{checklist_id}"): _ALL,
    ("POST", "/checks/{checklist_id}"): _ACTORS,
    ("GET", "/checks/photos/{name}"): _ALL,
    ("GET", "/api/checks"): _ALL,
    ("POST", "/api/checks/{checklist_id}"): _ACTORS,
    # The checklist editor (dashboard/routes/checklist_edit.py).
    ("GET", "/checklists/edit"): _ADMIN,
    ("POST", "/checklists/edit"): _ADMIN,
    # Hazard ledger and repairs (dashboard/routes/ledger.py): owners and the head checked per hazard; anyone with
    # a login reports a fault, the 水电工 takes and closes it.
    ("GET", "/hazards"): _UTIL,
    ("GET", "/hazards/report"): _UTIL,
    ("GET", "/hazards/report.csv"): _UTIL,
    ("POST", "/hazards"): _ACTORS,
    ("POST", "/hazards/{hazard_id}/{step}"): _ACTORS,
    ("GET", "/repairs"): _ALL,
    ("POST", "/repairs"): _ALL,
    ("POST", "/repairs/from-alert/{alert_id}"): _ACTORS,
    ("POST", "/repairs/{repair_id}/{step}"): frozenset({"admin", "facilities"}),
    ("GET", "/api/hazards"): _UTIL,
    ("GET", "/api/repairs"): _ALL,
    ("POST", "/api/repairs"): _ALL,
    ("POST", "/api/hazards"): _ACTORS,
    ("POST", "/api/hazards/{hazard_id}/{step}"): _ACTORS,
    ("POST", "/api/repairs/{repair_id}/{step}"): frozenset({"admin", "facilities"}),
    ("GET", "/holidays"): _UTIL,
    ("GET", "/api/holidays"): _UTIL,
    # The duty roster editor (dashboard/routes/duty_edit.py): the logistics head, i.e. an admin.
    ("GET", "/holidays/duty"): _ADMIN,
    ("POST", "/holidays/duty"): _ADMIN,
}


def allowed(role: str, method: str, path: str) -> bool:
    """True when ``role`` may call ``method path`` (``HEAD`` counts as ``GET``)."""
    key = ("GET" if method == "HEAD" else method, path)
    return role in ACCESS.get(key, frozenset())


def may_ack(role: str, area: str) -> bool:
    """True when ``role`` may acknowledge an alert of ``area``."""
    return role == "admin" or area in ACK_AREAS.get(role, frozenset())
