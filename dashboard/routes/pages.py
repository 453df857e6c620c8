"""Server-rendered pages: overview, gate, cold storage, utilities, alerts, devices, admin, account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard import views
from dashboard.accounts import AccountError
from dashboard.ack_note import clean_note
from dashboard.deps import Ctx, Forbidden, Form, Me, RowId
from dashboard.roles import ROLES, allowed, may_ack
from dashboard.routes import gate_work, ledger
from dashboard.routes.common import account_error, render_page, render_shared_page
from dashboard.security import client_address
from gateway.alerts.model import AlertNotFoundError, AlertStateError

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/")
def overview(request: Request, ctx: Ctx, me: Me) -> Response:
    """Site status at a glance (rendered once per language and role while no data changes)."""
    role = me.user.role

    def data() -> dict[str, Any]:
        found = views.overview(ctx.services)
        items = views.alert_json(ctx.services, found["alerts"], ctx.locale_of(me.user))
        for a in items:
            a["can_ack"] = a["state"] == "active" and may_ack(role, a["area"])
        return {"data": found, "alerts": items}

    return render_shared_page(request, ctx, me, "overview.html", data, page="overview")


@router.get("/gate")
def gate(request: Request, ctx: Ctx, me: Me, released: str = "", release_failed: str = "") -> Response:
    """The guard's screen: gates now, the lock release buttons, gate alarms and the event stream."""
    data = views.gate(ctx.services)
    can_ack = may_ack(me.user.role, "gate")
    for a in data["alerts"]:
        a["can_ack"] = can_ack and a["state"] == "active"
    gate_service = request.app.state.gate
    # card reads carry the gate's decision in the event stream (the reader only said "card"): accepted
    # with the holder, or refused with the reason
    decisions = {(r.reader, r.uid, round(r.ts, 3)): r for r in gate_service.access.recent(100)}
    for e in data["events"]:
        rec = decisions.get((e["device"], e["data"].get("uid"), round(e["ts"], 3))) if e["type"] == "card" else None
        e["refused"] = rec is not None and not rec.accepted
        e["accepted"] = rec is not None and rec.accepted
        e["holder"] = rec.holder if rec is not None else ""
        e["reason"] = rec.reason if rec is not None else ""
    relays = gate_work.lock_relays(gate_service)
    names = {r["device"]: r["name"] for r in relays}  # only configured relays are named back (no echo)
    return render_page(request, ctx, me, "gate.html", page="gate", data=data, can_ack=can_ack, relays=relays,
                       can_release=allowed(me.user.role, "POST", "/gate/release/{relay}"),
                       released=names.get(released, ""), release_failed=names.get(release_failed, ""))


@router.get("/cold")
def cold(request: Request, ctx: Ctx, me: Me) -> Response:
    """The kitchen's fridges and freezers."""
    return render_page(request, ctx, me, "cold.html", page="cold", items=views.cold_storage(ctx.services))


@router.get("/utilities")
def utilities(request: Request, ctx: Ctx, me: Me) -> Response:
    """Water and electricity meters."""
    sees_repairs = allowed(me.user.role, "GET", "/repairs")
    repairs, overdue = ledger.open_repairs(ctx) if sees_repairs else ([], set())
    return render_page(request, ctx, me, "utilities.html", page="utilities", items=views.utilities(ctx.services),
                       sees_repairs=sees_repairs, repairs=repairs, repairs_overdue=overdue)


@router.get("/alerts")
def alerts(request: Request, ctx: Ctx, me: Me, state: str = "recent", area: str = "",
                 severity: str = "") -> Response:
    """Open and recent alerts with filters."""
    found = views.alerts(ctx.services, state=state, area=area, severity=severity)
    items = views.alert_json(ctx.services, found, ctx.locale_of(me.user))
    for a in items:
        a["can_ack"] = a["state"] == "active" and may_ack(me.user.role, a["area"])
    return render_page(request, ctx, me, "alerts.html", page="alerts", items=items, state=state, area=area,
                       severity=severity, available=ctx.services.alerts is not None)


@router.get("/alerts/{alert_id}")
def alert_detail(request: Request, ctx: Ctx, me: Me, alert_id: RowId) -> Response:
    """One alert and its timeline."""
    if ctx.services.alerts is None:
        return render_page(request, ctx, me, "error.html", status_code=404, page="alerts", error="not_found")
    try:
        alert = ctx.services.alerts.get(alert_id)
        timeline = ctx.services.alerts.timeline(alert_id)
    except AlertNotFoundError:
        return render_page(request, ctx, me, "error.html", status_code=404, page="alerts", error="not_found")
    item = views.alert_json(ctx.services, [alert], ctx.locale_of(me.user))[0]
    item["can_ack"] = alert.state == "active" and may_ack(me.user.role, item["area"])
    return render_page(request, ctx, me, "alert.html", page="alerts", alert=item,
                       timeline=views.timeline(ctx.services, alert, timeline, ctx.locale_of(me.user)))


@router.post("/alerts/{alert_id}/ack")
def ack(request: Request, ctx: Ctx, me: Me, alert_id: RowId, form: Form) -> Response:
    """Acknowledge with a note (the corrective action), then back to where the user was."""
    note = clean_note(form.get("note", ""))
    back = form.get("back", "")
    back = back if back in ("/gate", "/alerts", "/", "/cold", "/utilities") else f"/alerts/{alert_id}"
    if ctx.services.alerts is None:
        raise Forbidden("alerts are not available")
    try:
        alert = ctx.services.alerts.get(alert_id)
        if not may_ack(me.user.role, views.area_of(ctx.services, alert.device)):
            raise Forbidden(f"role {me.user.role!r} may not acknowledge alerts of this area")
        if not note:
            # issue 4: an acknowledgement says what was done; the form's `required` stops most, this the rest
            return render_page(request, ctx, me, "error.html", status_code=400, page="alerts",
                               error="note_required", back=back)
        ctx.services.alerts.ack(alert_id, me.user.label, note)  # people read who: 张阿姨, not a login
    except AlertNotFoundError:
        return render_page(request, ctx, me, "error.html", status_code=404, page="alerts", error="not_found")
    except AlertStateError:
        return render_page(request, ctx, me, "error.html", status_code=409, page="alerts", error="conflict")
    ctx.audit.record(me.user.username, "alert_ack", target=str(alert_id), detail=note,
                     address=client_address(request))
    return RedirectResponse(back, status_code=303)


@router.get("/devices")
def devices(request: Request, ctx: Ctx, me: Me) -> Response:
    """Every device with its state."""
    return render_page(request, ctx, me, "devices.html", page="devices", items=views.devices(ctx.services))


@router.get("/account")
def account(request: Request, ctx: Ctx, me: Me) -> Response:
    """The user's language and password."""
    return render_page(request, ctx, me, "account.html", page="account", error="")


@router.get("/admin")
def admin(request: Request, ctx: Ctx, me: Me, error: str = "") -> Response:
    """Users, roles and the audit log."""
    return render_page(request, ctx, me, "admin.html", page="admin", users=ctx.accounts.list(), roles=ROLES,
                       audit=ctx.audit.recent(50), error=error)


@router.post("/admin/users")
def add_user(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Create a user."""
    try:
        user = ctx.kdf(ctx.accounts.add, form.get("username", ""), form.get("role", ""),
                             form.get("password", ""), form.get("display_name", "").strip()[:100])
    except AccountError as e:
        return render_page(request, ctx, me, "admin.html", status_code=400, page="admin", users=ctx.accounts.list(),
                           roles=ROLES, audit=ctx.audit.recent(50), error=account_error(ctx.locale_of(me.user), str(e)))
    ctx.audit.record(me.user.username, "user_added", target=user.username, detail=user.role,
                     address=client_address(request))
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{username}")
def change_user(request: Request, ctx: Ctx, me: Me, username: str, form: Form) -> Response:
    """Change a user's role, disable/enable them or set a new password (their sessions end)."""
    action = form.get("action", "")
    try:
        if action == "role":
            user = ctx.accounts.set_role(username, form.get("role", ""))
            ctx.sessions.end_all(user.id)
        elif action in ("disable", "enable"):
            user = ctx.accounts.set_disabled(username, action == "disable")
            ctx.sessions.end_all(user.id)
        elif action == "password":
            user = ctx.kdf(ctx.accounts.set_password, username, form.get("password", ""))
            ctx.sessions.end_all(user.id)
        else:
            raise AccountError(f"unknown action {action!r}")
    except AccountError as e:
        return render_page(request, ctx, me, "admin.html", status_code=400, page="admin", users=ctx.accounts.list(),
                           roles=ROLES, audit=ctx.audit.recent(50), error=account_error(ctx.locale_of(me.user), str(e)))
    ctx.audit.record(me.user.username, f"user_{action}", target=user.username,
                     detail=form.get("role", "") if action == "role" else "", address=client_address(request))
    return RedirectResponse("/admin", status_code=303)
