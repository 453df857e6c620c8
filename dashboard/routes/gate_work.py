"""The gate guard's pages and API (``gateway/gate``): the desk (live card decisions, visitor registration,
approvals, sign-in/out, watch list), roll call (printable), patrols, shift handover, card registry, and
the public approval page reached by a signed link."""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dashboard import views
from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Forbidden, Form, Me, RowId, Timestamp
from dashboard.live import LiveMessage
from dashboard.routes.common import render_page
from dashboard.security import client_address, same_origin
from gateway.alerts.model import Alert
from gateway.contract import METRICS, display_value
from gateway.gate.cards import CARD_KINDS, CardError
from gateway.gate.errors import GateError
from gateway.gate.handover import HandoverError
from gateway.gate.links import LinkError
from gateway.gate.service import Gate
from gateway.gate.visitors import VisitorError
from gateway.i18n import gettext

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api/gate", tags=["gate"])

Action = Literal["approve", "refuse", "signin", "signout"]
#: How many rows an API list returns (422 outside).
Limit = Annotated[int, Query(ge=1, le=1000)]


def wire(app: FastAPI, ctx: DashboardContext) -> Gate:
    """The gateway's gate, served by this app, with its changes sent to the live stream."""
    gate = ctx.services.gate
    app.state.gate = gate

    def forward(kind: str, data: dict[str, Any]) -> None:
        ctx.hub.publish(LiveMessage(f"gate_{kind}", data), "gate")

    gate.add_listener(forward)
    return gate


def _gate(request: Request) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


def _who(me: Any) -> str:
    return str(me.user.display_name or me.user.username)


def _desk_data(gate: Gate) -> dict[str, Any]:
    v = gate.visitors
    return {
        "names": {d.id: d.label for d in gate.config.devices},
        "access": [r.as_dict() for r in gate.access.recent(30)],
        "pending": v.find(("pending",)),
        "approved": v.find(("approved",)),
        "on_site": v.on_site(),
        "recent": v.find(("refused", "left"), since=gate.clock.now() - 86400, limit=30),
        "contractors": gate.access.contractors_on_site(),
        "watch": v.watch_list(),
        "pending_handover": gate.handovers.pending(),
    }


def _desk(request: Request, ctx: DashboardContext, me: Any, error: str = "", warning: str = "",
          status_code: int = 200) -> Response:
    gate = _gate(request)
    return render_page(request, ctx, me, "gate_desk.html", status_code=status_code, page="gate-desk",
                       d=_desk_data(gate), error=error, warning=warning, can_cards=me.user.role == "admin")


@router.get("/gate/desk")
def desk(request: Request, ctx: Ctx, me: Me, warning: str = "") -> Response:
    """The guard's work page on the tablet."""
    return _desk(request, ctx, me, warning=warning)


@router.post("/gate/visitors")
def register(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Register a visitor at the gate."""
    gate = _gate(request)
    try:
        v = gate.register_visitor(name=form.get("name", ""), phone=form.get("phone", ""),
                                  organisation=form.get("organisation", ""), purpose=form.get("purpose", ""),
                                  host=form.get("host", ""), id_number=form.get("id_number", ""), by=_who(me))
    except VisitorError as e:
        return _desk(request, ctx, me, error=e.text(ctx.locale_of(me.user)), status_code=400)
    ctx.audit.record(me.user.username, "visitor_registered", target=str(v.id), address=client_address(request))
    return RedirectResponse(f"/gate/desk?warning={v.id}" if v.watch else "/gate/desk", status_code=303)


@router.get("/gate/visitors/{visitor_id}/photo")
def visitor_photo(request: Request, visitor_id: RowId) -> Response:
    """The visitor's photo taken at the gate (not cached by the browser: personal data)."""
    photo = _gate(request).visitors.photo(visitor_id)
    if photo is None:
        raise HTTPException(404, "no photo")
    kind = "image/png" if photo.startswith(b"\x89PNG") else "image/jpeg"
    return Response(photo, media_type=kind, headers={"Cache-Control": "no-store"})


@router.post("/gate/visitors/{visitor_id}/{action}")
def visitor_action(request: Request, ctx: Ctx, me: Me, visitor_id: RowId, action: Action, form: Form) -> Response:
    """Approve/refuse (as told by the person visited), sign in, sign out."""
    try:
        _act(_gate(request), visitor_id, action, _who(me), form.get("note", ""))
    except VisitorError as e:
        return _desk(request, ctx, me, error=e.text(ctx.locale_of(me.user)), status_code=409)
    ctx.audit.record(me.user.username, f"visitor_{action}", target=str(visitor_id), address=client_address(request))
    back = form.get("back", "")
    return RedirectResponse(back if back in ("/gate/desk", "/gate/rollcall") else "/gate/desk", status_code=303)


def _act(gate: Gate, visitor_id: int, action: str, by: str, note: str) -> Any:
    if action in ("approve", "refuse"):
        return gate.decide_visitor(visitor_id, action == "approve", by, note)
    if action == "signin":
        return gate.sign_in(visitor_id)
    return gate.sign_out(visitor_id)


@router.post("/gate/watch")
def watch_add(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Add a person to the watch list."""
    try:
        e = _gate(request).visitors.add_watch(form.get("name", ""), form.get("reason", ""), _who(me),
                                              phone=form.get("phone", ""), id_number=form.get("id_number", ""))
    except VisitorError as err:
        return _desk(request, ctx, me, error=err.text(ctx.locale_of(me.user)), status_code=400)
    ctx.audit.record(me.user.username, "watch_added", target=str(e.id), address=client_address(request))
    return RedirectResponse("/gate/desk#watch", status_code=303)


@router.post("/gate/watch/{entry_id}/delete")
def watch_delete(request: Request, ctx: Ctx, me: Me, entry_id: RowId) -> Response:
    """Take a person off the watch list."""
    _gate(request).visitors.remove_watch(entry_id)
    ctx.audit.record(me.user.username, "watch_removed", target=str(entry_id), address=client_address(request))
    return RedirectResponse("/gate/desk#watch", status_code=303)


# -- lock release from the gate page ----------------------------------------------------------------
def lock_relays(gate: Gate) -> list[dict[str, str]]:
    """The lock relays a guard may release: every ``[[gate.readers]] relay`` and ``release_on_approval``."""
    ids: list[str] = []
    for relay in [r.relay for r in gate.settings.readers] + [gate.settings.release_on_approval]:
        if relay and relay not in ids:
            ids.append(relay)
    names = {d.id: d.label for d in gate.config.devices}
    return [{"device": i, "name": names.get(i, i)} for i in ids]


def _release(request: Request, ctx: DashboardContext, me: Any, relay: str) -> bool:
    """Pulse ``relay`` (with a ``release`` event, so gate_forced knows who opened) and audit it."""
    gate = _gate(request)
    if relay not in {r["device"] for r in lock_relays(gate)}:
        raise HTTPException(404, f"no lock relay {relay!r}: relays are set in [[gate.readers]] relay "
                                 "or [gate] release_on_approval")
    sent = gate.access.release(relay, f"released at the dashboard by {_who(me)}")
    ctx.audit.record(me.user.username, "gate_release", target=relay,
                     detail="sent" if sent else "not sent: MQTT not connected", address=client_address(request))
    log.info("gate: %s released %s from the dashboard (%s)", me.user.username, relay, "sent" if sent else "NOT sent")
    return sent


@router.post("/gate/release/{relay}")
def release(request: Request, ctx: Ctx, me: Me, relay: str) -> Response:
    """The gate page's "Release lock" button (guards and admins; audited)."""
    sent = _release(request, ctx, me, relay)
    return RedirectResponse(f"/gate?{'released' if sent else 'release_failed'}={quote(relay, safe='')}",
                            status_code=303)


@router.get("/gate/rollcall")
def rollcall(request: Request, ctx: Ctx, me: Me) -> Response:
    """Everyone on site now, printable for an evacuation drill (A4, no navigation when printed)."""
    gate = _gate(request)
    return render_page(request, ctx, me, "gate_rollcall.html", page="gate-rollcall", visitors=gate.visitors.on_site(),
                       contractors=gate.access.contractors_on_site(),
                       names={d.id: d.label for d in gate.config.devices})


@router.get("/gate/patrols")
def patrols(request: Request, ctx: Ctx, me: Me) -> Response:
    """Patrol routes, the last two days' rounds and their check-ins with the readings recorded."""
    gate = _gate(request)
    now = gate.clock.now()
    locale = ctx.locale_of(me.user)
    names = {d.id: d.label for d in gate.config.devices}
    checkins = list(reversed(gate.patrols.check_ins(now - 2 * 86400)))
    # What each check-in recorded, for the guard: device names, values with units, and when a reading is
    # older than the check-in by more than a sensor's silence allows, its own time.
    seen = {c.id: [(names.get(x["device"], x["device"]), _shown(x["metric"], x["value"], locale),
                    x["ts"] if c.ts - x["ts"] > STALE_READING_S else None) for x in c.readings] for c in checkins}
    return render_page(request, ctx, me, "gate_patrols.html", page="gate-patrols",
                       routes=gate.settings.patrols, rounds=list(reversed(gate.patrols.rounds(now - 2 * 86400, now))),
                       checkins=checkins, seen=seen, names=names,
                       route_names={r.id: r.label for r in gate.settings.patrols},
                       checkpoint_names={f"{r.id}/{c.id}": c.label for r in gate.settings.patrols
                                         for c in r.checkpoints})


#: A reading recorded at a check-in older than this is shown with its own time (the sensor was silent).
STALE_READING_S = 900.0


def _shown(metric: str, value: float, locale: str) -> str:
    shown = display_value(metric, value)
    if isinstance(shown, str):
        return gettext(locale, shown)
    unit = METRICS[metric].unit if metric in METRICS else ""
    return f"{shown:.1f} {unit}".strip()


@router.get("/gate/handover")
def handover(request: Request, ctx: Ctx, me: Me) -> Response:
    """Write the handover (pre-filled) or acknowledge the last one."""
    return _handover(request, ctx, me)


def _handover(request: Request, ctx: DashboardContext, me: Any, error: str = "", status_code: int = 200) -> Response:
    gate = _gate(request)
    pre = gate.handover_prefill()
    # Alerts in words (rule name, place, detail), as on the alert pages: never ids or codes.
    pre["alerts"] = views.alert_json(ctx.services, [Alert(**a) for a in pre["alerts"]], ctx.locale_of(me.user))
    return render_page(request, ctx, me, "gate_handover.html", status_code=status_code, page="gate-handover",
                       pre=pre, pending=gate.handovers.pending(),
                       history=gate.handovers.recent(10), error=error, me_name=_who(me),
                       names={d.id: d.label for d in gate.config.devices},
                       route_names={r.id: r.label for r in gate.settings.patrols})


@router.post("/gate/handover")
def handover_write(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Save the outgoing guard's handover."""
    try:
        h = _gate(request).write_handover(_who(me), form.get("note", ""), form.get("open_issues", ""))
    except HandoverError as e:
        return _handover(request, ctx, me, error=e.text(ctx.locale_of(me.user)), status_code=400)
    ctx.audit.record(me.user.username, "handover_written", target=str(h.id), address=client_address(request))
    return RedirectResponse("/gate/handover", status_code=303)


@router.post("/gate/handover/{handover_id}/ack")
def handover_ack(request: Request, ctx: Ctx, me: Me, handover_id: RowId) -> Response:
    """The next guard acknowledges the handover."""
    try:
        _gate(request).ack_handover(handover_id, _who(me))
    except HandoverError as e:
        return _handover(request, ctx, me, error=e.text(ctx.locale_of(me.user)), status_code=409)
    ctx.audit.record(me.user.username, "handover_acked", target=str(handover_id), address=client_address(request))
    return RedirectResponse("/gate/handover", status_code=303)


@router.get("/gate/cards")
def cards(request: Request, ctx: Ctx, me: Me, error: str = "") -> Response:
    """The card registry (admins)."""
    return render_page(request, ctx, me, "gate_cards.html", page="gate-cards", cards=_gate(request).cards.all(),
                       kinds=CARD_KINDS, error=error)


@router.post("/gate/cards")
def card_add(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Register a card."""
    gate = _gate(request)
    try:
        c = gate.cards.add(form.get("uid", ""), form.get("holder", ""), form.get("kind", "staff"),
                           days=form.get("days", "") or "1234567", hours=form.get("hours", ""),
                           valid_from=form.get("valid_from") or None, valid_until=form.get("valid_until") or None,
                           note=form.get("note", ""))
    except CardError as e:
        return render_page(request, ctx, me, "gate_cards.html", status_code=400, page="gate-cards",
                           cards=gate.cards.all(), kinds=CARD_KINDS, error=e.text(ctx.locale_of(me.user)))
    gate.access.publish_card_list()
    ctx.audit.record(me.user.username, "card_added", target=c.uid, detail=c.holder, address=client_address(request))
    return RedirectResponse("/gate/cards", status_code=303)


@router.post("/gate/cards/{card_id}")
def card_change(request: Request, ctx: Ctx, me: Me, card_id: RowId, form: Form) -> Response:
    """Disable, enable or delete a card."""
    gate = _gate(request)
    what = form.get("action", "")
    try:
        if what == "delete":
            gate.cards.delete(card_id)
        elif what in ("disable", "enable"):
            gate.cards.update(card_id, disabled=what == "disable")
        else:
            raise CardError("action: use disable, enable or delete")
    except CardError as e:
        return render_page(request, ctx, me, "gate_cards.html", status_code=400, page="gate-cards",
                           cards=gate.cards.all(), kinds=CARD_KINDS, error=e.text(ctx.locale_of(me.user)))
    gate.access.publish_card_list()
    ctx.audit.record(me.user.username, f"card_{what}", target=str(card_id), address=client_address(request))
    return RedirectResponse("/gate/cards", status_code=303)


# -- the public approval page (the signed link is the credential) -------------------------------------
@router.get("/v/{token}")
def approval_page(request: Request, ctx: Ctx, token: str) -> Response:
    """What the person visited sees on their phone: who is at the gate, approve or refuse."""
    gate = _gate(request)
    try:
        v = gate.visitor_for_link(token)
        error = ""
    except (LinkError, VisitorError) as e:
        v, error = None, e.text(ctx.locale_of(None))
    return render_page(request, ctx, None, "gate_approve.html", status_code=200 if v else 410, page="approve",
                       v=v, token=token, error=error, done="")


def _same_site(request: Request, ctx: DashboardContext) -> bool:
    """False for a post from another site: its Origin/Referer, or the browser's Sec-Fetch-Site, says so."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    return same_origin(request, bool(ctx.settings.trusted_proxies))


@router.post("/v/{token}")
def approval_decide(request: Request, ctx: Ctx, token: str, form: Form) -> Response:
    """Approve or refuse through the link (a GET never decides: link previews must not approve anyone)."""
    gate = _gate(request)
    if not _same_site(request, ctx):
        raise Forbidden("cross-site request refused")
    approve = form.get("decision") == "approve"
    try:
        v = gate.decide_by_link(token, approve, form.get("note", "")[:500])
        ctx.audit.record(v.decided_by or "", "visitor_approve" if approve else "visitor_refuse", target=str(v.id),
                         detail="by link", address=client_address(request))
        return render_page(request, ctx, None, "gate_approve.html", page="approve", v=v, token=token, error="",
                           done="approved" if approve else "refused")
    except (LinkError, VisitorError) as e:
        return render_page(request, ctx, None, "gate_approve.html", status_code=409, page="approve", v=None,
                           token=token, error=e.text(ctx.locale_of(None)), done="")


# -- JSON API -------------------------------------------------------------------------------------------
class VisitorIn(BaseModel):
    """A visitor registered through the API (``photo``: base64 JPEG/PNG, optional)."""

    name: str
    host: str
    phone: str = ""
    organisation: str = ""
    purpose: str = ""
    id_number: str = ""
    photo: str | None = Field(default=None, description="base64 image, at most 2 MB")


class DecisionIn(BaseModel):
    """Optional note with a visitor action."""

    note: str = ""


class CardIn(BaseModel):
    """A card registered through the API."""

    uid: str
    holder: str
    kind: Literal["staff", "guard", "contractor"] = "staff"
    days: str = "1234567"
    hours: str = ""
    valid_from: str | None = None
    valid_until: str | None = None
    note: str = ""


def _bad(e: Exception, status: int = 400, locale: str | None = None) -> HTTPException:
    return HTTPException(status, e.text(locale) if locale and isinstance(e, GateError) else str(e))


def _lang(request: Request, me: Any) -> str:
    """The API caller's language (the desk shows the API's error text to the guard)."""
    return str(me.user.locale or _gate(request).config.site.locale)


@api.post("/release/{relay}")
def api_release(request: Request, ctx: Ctx, me: Me, relay: str) -> dict[str, Any]:
    """Release (pulse) a lock relay; 503 when the command could not be sent (MQTT not connected)."""
    if not _release(request, ctx, me, relay):
        raise HTTPException(503, f"the release command for {relay!r} could not be sent: MQTT is not connected")
    return {"relay": relay, "sent": True}


@api.get("/access")
def api_access(request: Request, limit: Limit = 50, since: Timestamp = None) -> list[dict[str, Any]]:
    """Card decisions (accepted and refused), newest first."""
    return [r.as_dict() for r in _gate(request).access.recent(min(limit, 1000), since=since)]


@api.get("/onsite")
def api_onsite(request: Request) -> dict[str, Any]:
    """Who is on site now: visitors signed in, contractors in without out."""
    return _gate(request).on_site()


@api.get("/visitors")
def api_visitors(request: Request, status: str | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    """Visitors, newest first (ID numbers masked)."""
    statuses = tuple(status.split(",")) if status else None
    return [v.as_dict() for v in _gate(request).visitors.find(statuses, limit=min(limit, 1000))]


@api.post("/visitors", status_code=201)
def api_register(request: Request, body: VisitorIn, me: Me) -> dict[str, Any]:
    """Register a visitor (the approval request goes out at once)."""
    try:
        photo = base64.b64decode(body.photo, validate=True) if body.photo else None
    except ValueError:
        raise HTTPException(400, "photo: send the image as base64") from None
    try:
        v = _gate(request).register_visitor(name=body.name, host=body.host, phone=body.phone,
                                            organisation=body.organisation, purpose=body.purpose,
                                            id_number=body.id_number, photo=photo, by=_who(me))
    except VisitorError as e:
        raise _bad(e, 400, _lang(request, me)) from None
    return v.as_dict()


@api.post("/visitors/{visitor_id}/{action}")
def api_visitor_action(request: Request, visitor_id: RowId, action: Action, me: Me,
                             body: DecisionIn | None = None) -> dict[str, Any]:
    """Approve, refuse, sign in or sign out."""
    try:
        v = _act(_gate(request), visitor_id, action, _who(me), body.note if body else "")
    except VisitorError as e:
        raise _bad(e, 409, _lang(request, me)) from None
    result: dict[str, Any] = v.as_dict()
    return result


@api.get("/cards")
def api_cards(request: Request) -> list[dict[str, Any]]:
    """The card registry."""
    return [c.as_dict() for c in _gate(request).cards.all()]


@api.post("/cards", status_code=201)
def api_card_add(request: Request, body: CardIn) -> dict[str, Any]:
    """Register a card (the agents' cached list is updated at once)."""
    gate = _gate(request)
    try:
        c = gate.cards.add(body.uid, body.holder, body.kind, days=body.days, hours=body.hours,
                           valid_from=body.valid_from, valid_until=body.valid_until, note=body.note)
    except CardError as e:
        raise _bad(e) from None
    gate.access.publish_card_list()
    return c.as_dict()


@api.get("/patrols")
def api_patrols(request: Request,
                hours: float = Query(default=48, gt=0, le=24 * 31, allow_inf_nan=False)) -> dict[str, Any]:
    """Rounds and check-ins of the last ``hours``."""
    gate = _gate(request)
    now = gate.clock.now()
    since = now - min(hours, 24 * 31) * 3600
    return {"rounds": [r.as_dict() for r in gate.patrols.rounds(since, now)],
            "checkins": [c.as_dict() for c in gate.patrols.check_ins(since)]}


@api.get("/handover")
def api_handover(request: Request) -> JSONResponse:
    """The pre-filled handover of this moment and the last handovers."""
    gate = _gate(request)
    return JSONResponse({"prefill": gate.handover_prefill(),
                         "handovers": [h.as_dict() for h in gate.handovers.recent(10)]})
