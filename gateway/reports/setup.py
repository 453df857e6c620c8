"""Wires the reports into ``houqin run`` and the demo (``install(gateway)``, listed in ``gateway.app.EXTENSIONS``):
the sample watch observes ingest, the scheduler runs as a component, ``gateway.reports`` serves others."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.reports.samples import SampleWatch
from gateway.reports.scheduler import ReportScheduler
from gateway.reports.service import Reports

if TYPE_CHECKING:
    from gateway.app import Gateway


def install(gw: Gateway) -> Reports:
    """Add the sample watch (observer) and the report scheduler (component); sets ``gw.reports``."""
    alerting = getattr(gw, "alerting", None)
    alerts = getattr(alerting, "service", None)
    reports = Reports(gw.config, gw.store, gw.events_db, gw.clock, alerts)
    gw.add_observer(SampleWatch(reports.ledger, alerts, reports.locale))
    gw.add_component(ReportScheduler(reports, gw.clock))
    gw.reports = reports  # type: ignore[attr-defined]
    return reports
