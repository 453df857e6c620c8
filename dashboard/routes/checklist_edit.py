"""The checklist editor for admins (gateway/inspections): a checklist's name, items (with the devices whose
evidence is shown beside each), schedule, role and due window, saved as a new version; the runs already saved
are never touched. Plain ``def`` handlers (SQLite, rendering)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from dashboard.context import DashboardContext, Principal
from dashboard.deps import Ctx, Form, Me, SavedQuery
from dashboard.routes.common import render_page
from dashboard.security import client_address
from gateway.calendar import WEEKDAYS
from gateway.i18n import tr
from gateway.inspections.checklists import Checklists
from gateway.inspections.settings import ChecklistSettings

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

SCHEDULES = ("daily", "weekly", "monthly", "before_holiday")
ROLES = ("facilities", "kitchen", "guard", "admin")
#: Empty item rows offered under the existing ones.
NEW_ROWS = 3


def _checklists(ctx: DashboardContext) -> Checklists:
    s = ctx.services
    return Checklists(s.config, s.events_db, s.clock, s.store)


def _form_of(c: ChecklistSettings | None) -> dict[str, Any]:
    if c is None:
        return {"id": "", "name": "", "schedule": "daily", "weekday": "mon", "day": "1", "role": "facilities",
                "start": "07:00", "end": "09:00", "items": []}
    return {"id": c.id, "name": c.name, "schedule": c.schedule, "weekday": c.weekday, "day": str(c.day),
            "role": c.role, "start": str(c.window).split("-")[0], "end": str(c.window).split("-")[1],
            "items": [{"id": i.id, "text": i.text, "devices": i.devices} for i in c.items]}


def _page(request: Request, ctx: DashboardContext, me: Principal, cl: Checklists, form: dict[str, Any], *,
          status_code: int = 200, error: str = "", saved: bool = False) -> Response:
    rows = [*form["items"], *({"id": "", "text": "", "devices": []} for _ in range(NEW_ROWS))]
    return render_page(request, ctx, me, "checklist_edit.html", status_code=status_code, page="checks",
                       form=form, rows=rows, schedules=SCHEDULES, weekdays=WEEKDAYS, roles=ROLES,
                       devices=ctx.services.config.devices, checklists=cl.all(), error=error, saved=saved,
                       versions=cl.versions(form["id"]) if form["id"] else [])


@router.get("/checklists/edit")
def checklist_edit_page(request: Request, ctx: Ctx, me: Me, id: str = "", saved: SavedQuery = 0) -> Response:
    """Every checklist, and the form for one (``id``) or a new one."""
    cl = _checklists(ctx)
    c = cl.checklist(id) if id else None
    if id and c is None:
        raise HTTPException(404, f"no checklist {id!r}")
    return _page(request, ctx, me, cl, _form_of(c), saved=bool(saved))


def _new_id(cl: Checklists, taken: set[str], prefix: str) -> str:
    n = 1
    while f"{prefix}-{n}" in taken or (prefix == "list" and cl.checklist(f"{prefix}-{n}") is not None):
        n += 1
    return f"{prefix}-{n}"


@router.post("/checklists/edit")
def checklist_edit_save(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Save the checklist as a new version (a new one gets an id); the form again with what to fix."""
    cl = _checklists(ctx)
    loc = ctx.locale_of(me.user)
    f = {k: str(form.get(k, "")).strip() for k in ("id", "name", "schedule", "weekday", "day", "role", "start",
                                                    "end")}
    existing = cl.checklist(f["id"]) if f["id"] else None
    if f["id"] and existing is None:
        raise HTTPException(404, f"no checklist {f['id']!r}")
    items: list[dict[str, Any]] = []
    indices = sorted({int(m.group(1)) for k in form for m in [re.fullmatch(r"item_text_(\d+)", k)] if m})
    taken = {str(form.get(f"item_id_{i}", "")) for i in indices} - {""}
    for i in indices:
        text = str(form.get(f"item_text_{i}", "")).strip()
        if not text:
            continue  # an emptied row removes the item (its past results stay in the runs)
        item_id = str(form.get(f"item_id_{i}", "")) or _new_id(cl, taken, "item")
        taken.add(item_id)
        chosen = [d.id for d in ctx.services.config.devices if form.get(f"item_dev_{i}__{d.id}")]
        items.append({"id": item_id, "text": text, "devices": chosen})
    state = {**f, "items": items}
    problems = []
    if not f["name"]:
        problems.append(tr(loc, "give the checklist a name"))
    if not items:
        problems.append(tr(loc, "write at least one item"))
    if not problems:
        raw: dict[str, Any] = {"id": f["id"] or _new_id(cl, set(), "list"), "name": f["name"],
                               "schedule": f["schedule"], "weekday": f["weekday"], "day": f["day"] or "1",
                               "role": f["role"], "window": f"{f['start']}-{f['end']}", "items": items}
        if existing is not None:  # what the page does not edit stays as it was
            raw |= {"school_days_only": existing.school_days_only, "severity": existing.severity,
                    "notify": existing.notify}
        try:
            c = ChecklistSettings.model_validate(raw)
        except ValidationError as e:
            problems.append(tr(loc, "check the schedule and the time window: {what}",
                               what="; ".join(str(x.get("msg", "")) for x in e.errors())))
    if problems:
        return _page(request, ctx, me, cl, state, status_code=400, error="; ".join(problems))
    cl.define(c, me.user.label)
    ctx.audit.record(me.user.username, "checklist_defined", target=c.id, detail=f"{c.name}: {len(c.items)} items",
                     address=client_address(request))
    return RedirectResponse(f"/checklists/edit?id={c.id}&saved=1", status_code=303)


def wire(app: Any) -> None:
    """Include the editor."""
    app.include_router(router)
