"""Operations: ``/healthz`` for supervisors and ``/metrics`` in the Prometheus text format."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Forbidden
from dashboard.health import report
from dashboard.security import SESSION_COOKIE, client_address

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=True, tags=["operations"])


def health(ctx: DashboardContext) -> dict[str, Any]:
    """Each part of the site's monitoring with a reason when it is not ok (``dashboard.health``)."""
    return report(ctx.services, ctx.hub.clients)


@router.get("/healthz")
def healthz(ctx: Ctx) -> JSONResponse:
    """200 while the site is being monitored, 503 otherwise; each part with the reason it is not ok."""
    data = health(ctx)
    return JSONResponse(data, status_code=200 if data["ok"] else 503)


_NAME_BAD = re.compile(r"[^a-zA-Z0-9_]")


def _label_name(key: str) -> str:
    if key in ("refused", "dead_letters") or key.endswith("_by_reason"):
        return "reason"
    if key.startswith("notify_") or key == "channels":
        return "channel"
    return "key"


def _metric_name(*parts: str) -> str:
    return "houqin_" + "_".join(_NAME_BAD.sub("_", p) for p in parts if p)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def prometheus_text(ctx: DashboardContext) -> str:
    """Every component's ``stats()`` as gauges (mappings become one labelled series per key)."""
    lines: list[str] = []

    def emit(name: str, value: Any, labels: Mapping[str, str] | None = None) -> None:
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float):
            return
        lab = ""
        if labels:
            lab = "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"
        lines.append(f"{name}{lab} {value}")

    def flatten(prefix: str, stats: Mapping[str, Any]) -> None:
        for key, value in sorted(stats.items()):
            name = f"{prefix}_{_NAME_BAD.sub('_', str(key))}"
            if isinstance(value, Mapping):
                leaves = {k: v for k, v in value.items() if isinstance(v, int | float)}
                if leaves and len(leaves) == len(value):  # label -> number: one labelled series
                    lines.append(f"# TYPE {name} gauge")
                    for k, v in sorted(leaves.items()):
                        emit(name, v, {_label_name(str(key)): str(k)})
                else:
                    flatten(name, value)
            elif isinstance(value, int | float):
                lines.append(f"# TYPE {name} gauge")
                emit(name, value)

    for source, obj in sorted(ctx.services.stats_sources.items()):
        try:
            stats = obj.stats()
        except Exception:
            log.exception("stats() of %s failed", source)
            continue
        flatten(_metric_name(source), stats)
    if ctx.services.alerts is not None:
        try:
            open_ = ctx.services.alerts.list(open_only=True, limit=10000)
            counts: dict[tuple[str, str], int] = {}
            for a in open_:
                counts[(a.state, a.severity)] = counts.get((a.state, a.severity), 0) + 1
            lines.append("# TYPE houqin_alerts_open gauge")
            for (state, severity), n in sorted(counts.items()):
                emit("houqin_alerts_open", n, {"state": state, "severity": severity})
        except Exception:
            log.exception("counting alerts failed")
    lines.append("# TYPE houqin_dashboard_live_clients gauge")
    emit("houqin_dashboard_live_clients", ctx.hub.clients)
    lines.append("# TYPE houqin_dashboard_sessions gauge")
    emit("houqin_dashboard_sessions", ctx.sessions.count())
    return "\n".join(lines) + "\n"


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, ctx: Ctx) -> Response:
    """Prometheus text; open to scrapers on this machine, otherwise to logged-in admins only."""
    if not _loopback(client_address(request)):
        session = ctx.sessions.lookup(request.cookies.get(SESSION_COOKIE))
        user = ctx.accounts.get_by_id(session.user_id) if session else None
        if user is None or user.role != "admin" or user.disabled:
            raise Forbidden("/metrics is open to localhost scrapers and admins only")
    return PlainTextResponse(prometheus_text(ctx), media_type="text/plain; version=0.0.4")
