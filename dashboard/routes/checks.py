"""Checklist pages and API (gateway/inspections): the checklists of my role with where each stands, one
checklist on a phone (pass or fail per item, a note, the devices' evidence beside each item, a warning before
a "pass" the sensors contradict is saved), its recent runs, and photos. Plain ``def`` handlers.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dashboard.context import DashboardContext, Principal
from dashboard.deps import Ctx, Form, Me, RowIdQuery
from dashboard.routes import checklist_edit
from dashboard.routes.common import render_page
from dashboard.security import client_address
from gateway.i18n import tr
from gateway.inspections.checklists import ChecklistError, Checklists, Contradicted, ItemResult, Run
from gateway.inspections.settings import ChecklistSettings

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api", tags=["inspections"])


def _checklists(ctx: DashboardContext) -> Checklists:
    s = ctx.services
    return Checklists(s.config, s.events_db, s.clock, s.store)


def _locale(ctx: DashboardContext, me: Principal) -> str:
    return ctx.locale_of(me.user)


def _checklist(cl: Checklists, checklist_id: str) -> ChecklistSettings:
    c = cl.checklist(checklist_id)
    if c is None:
        raise HTTPException(404, f"no checklist {checklist_id!r}")
    return c


def _may_do(me: Principal, c: ChecklistSettings) -> bool:
    return me.user.role in ("admin", c.role)


def _may_see(me: Principal, c: ChecklistSettings) -> bool:
    return me.user.role in ("admin", "viewer", c.role)


@router.get("/checks")
def checks_page(request: Request, ctx: Ctx, me: Me) -> Response:
    """The checklists of my role with where each stands now."""
    cl = _checklists(ctx)
    role = me.user.role
    shown = cl.all() if role in ("admin", "viewer") else cl.for_role(role)
    return render_page(request, ctx, me, "checks.html", page="checks", statuses=[cl.status(c) for c in shown])


def _check_page(request: Request, ctx: DashboardContext, me: Principal, cl: Checklists, c: ChecklistSettings, *,
                status_code: int = 200, error: str = "", warned: dict[str, list[str]] | None = None,
                form: dict[str, str] | None = None, saved: int | None = None) -> Response:
    return render_page(request, ctx, me, "check.html", status_code=status_code, page="checks", c=c,
                       status=cl.status(c), evidence=cl.evidence(c, _locale(ctx, me)), history=cl.history(c.id, 10),
                       can_do=_may_do(me, c), error=error, warned=warned or {}, form=form or {}, saved=saved)


@router.get("/checks/{checklist_id}")
def check_page(request: Request, ctx: Ctx, me: Me, checklist_id: str, saved: RowIdQuery = None) -> Response:
    """One checklist: its items with the devices' evidence, the form, its recent runs."""
    cl = _checklists(ctx)
    c = _checklist(cl, checklist_id)
    if not _may_see(me, c):
        raise HTTPException(403, "this checklist belongs to another role")
    return _check_page(request, ctx, me, cl, c, saved=saved)


@router.post("/checks/{checklist_id}")
def check_submit(request: Request, ctx: Ctx, me: Me, checklist_id: str, form: Form) -> Response:
    """Save the checklist from the form; a "pass" the sensors contradict comes back with the warning first."""
    cl = _checklists(ctx)
    c = _checklist(cl, checklist_id)
    if not _may_do(me, c):
        raise HTTPException(403, "this checklist belongs to another role")
    results = {i.id: ItemResult(form[f"result_{i.id}"] == "pass", form.get(f"note_{i.id}", ""))
               for i in c.items if form.get(f"result_{i.id}") in ("pass", "fail")}
    try:
        run = cl.submit(c.id, results, me.user.label, form.get("note", ""), confirm=form.get("confirm") == "1",
                        locale=_locale(ctx, me))
    except Contradicted as w:
        return _check_page(request, ctx, me, cl, c, status_code=409, warned=w.items, form=form)
    except ChecklistError as e:
        return _check_page(request, ctx, me, cl, c, status_code=400, error=str(e), form=form)
    _audit(request, ctx, me, run)
    return RedirectResponse(f"/checks/{c.id}?saved={run.id}", status_code=303)


def _audit(request: Request, ctx: DashboardContext, me: Principal, run: Run) -> None:
    failed = ", ".join(r.item for r in run.failed)
    ctx.audit.record(me.user.username, "checklist_done", target=run.checklist,
                     detail=f"{run.due_day}: {len(run.results) - len(run.failed)} pass" + (f", fail {failed}"
                                                                                          if failed else ""),
                     address=client_address(request))


@router.get("/checks/photos/{name}")
def check_photo(ctx: Ctx, me: Me, name: str) -> Response:
    """A photo taken with a checklist."""
    path = _checklists(ctx).photo_path(name)
    if path is None:
        raise HTTPException(404, "no such photo")
    return FileResponse(path, media_type="image/png" if name.endswith(".png") else "image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})


# -- JSON API ----------------------------------------------------------------------------------------
class EvidenceOut(BaseModel):
    """What one device shows."""

    device: str
    name: str
    lines: list[str]
    contradicts: str | None = Field(description="why a pass would be wrong now; null when nothing contradicts it")


class ItemOut(BaseModel):
    """One item and its evidence."""

    id: str
    text: str
    evidence: list[EvidenceOut]


class ChecklistOut(BaseModel):
    """A checklist and where it stands."""

    id: str
    name: str
    role: str
    schedule: str
    state: str = Field(description="done, due, overdue or none (nothing due)")
    due_day: str | None
    window: str
    done_by: str | None
    done_at: float | None
    items: list[ItemOut]


class SavedResultOut(BaseModel):
    """One item's result as saved."""

    item: str
    passed: bool
    note: str | None
    photo: str | None = Field(description="file name under /checks/photos/")
    evidence: list[dict[str, Any]] = Field(description="what the devices showed when it was saved")
    warned: bool = Field(description="a pass the sensors contradicted, saved after the warning")


class RunOut(BaseModel):
    """A checklist as saved."""

    id: int
    checklist: str
    due_day: str
    by: str
    at: float
    note: str | None
    late: bool = Field(description="saved after the end of its window")
    results: list[SavedResultOut]


class ItemIn(BaseModel):
    """One item's result."""

    passed: bool
    note: str = ""
    photo: str | None = Field(default=None, description="base64 JPEG or PNG, at most [inspections] max_photo_kb")


class RunIn(BaseModel):
    """A checklist as done."""

    results: dict[str, ItemIn]
    note: str = ""
    confirm: bool = Field(default=False, description="save although the sensors contradict a pass")


def _out(cl: Checklists, c: ChecklistSettings, locale: str) -> ChecklistOut:
    st = cl.status(c)
    ev = cl.evidence(c, locale)
    return ChecklistOut(id=c.id, name=c.name, role=c.role, schedule=c.schedule, state=st.state,
                        due_day=st.due_day.isoformat() if st.due_day else None, window=str(c.window),
                        done_by=st.run.by if st.run else None, done_at=st.run.at if st.run else None,
                        items=[ItemOut(id=i.id, text=i.text, evidence=[EvidenceOut(**e.as_dict()) for e in ev[i.id]])
                               for i in c.items])


@api.get("/checks")
def api_checks(ctx: Ctx, me: Me) -> list[ChecklistOut]:
    """The checklists I may see, with where each stands and the devices' evidence."""
    cl = _checklists(ctx)
    return [_out(cl, c, _locale(ctx, me)) for c in cl.all() if _may_see(me, c)]


@api.post("/checks/{checklist_id}", status_code=201)
def api_check_submit(request: Request, ctx: Ctx, me: Me, checklist_id: str, body: RunIn) -> RunOut:
    """Save a checklist; 409 with the contradicted items unless ``confirm``; 400 with what to fix."""
    cl = _checklists(ctx)
    c = _checklist(cl, checklist_id)
    if not _may_do(me, c):
        raise HTTPException(403, "this checklist belongs to another role")
    loc = _locale(ctx, me)
    results = {}
    for k, v in body.results.items():
        try:
            photo = base64.b64decode(v.photo, validate=True) if v.photo else None
        except (binascii.Error, ValueError):
            raise HTTPException(400, tr(loc, "photo: send a JPEG or PNG image")) from None
        results[k] = ItemResult(v.passed, v.note, photo)
    try:
        run = cl.submit(c.id, results, me.user.label, body.note, confirm=body.confirm, locale=loc)
    except Contradicted as w:
        raise HTTPException(409, {"message": str(w), "items": w.items}) from None
    except ChecklistError as e:
        raise HTTPException(400, str(e)) from None
    _audit(request, ctx, me, run)
    return RunOut(**run.as_dict())


def wire(app: Any) -> None:
    """Include the pages, the admins' checklist editor and the API."""
    app.include_router(router)
    checklist_edit.wire(app)
    app.include_router(api)
