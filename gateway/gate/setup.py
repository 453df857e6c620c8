"""Wires the gate into ``houqin run`` and the demo (``install(gateway)``, listed in ``gateway.app.EXTENSIONS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.gate.service import Gate

if TYPE_CHECKING:
    from gateway.app import Gateway


def install(gw: Gateway) -> Gate:
    """Add the gate as an ingest observer and a component; sets ``gw.gate`` (after alerting is installed)."""
    alerting = getattr(gw, "alerting", None)
    gate = Gate(gw.config, gw.events_db, gw.clock, publisher=gw.link, alerts=getattr(alerting, "service", None),
                store=gw.store)
    if alerting is not None:
        # Rules judging forced openings ask the card registry about reads that carry no decision.
        alerting.engine.add_card_decider(gate.access.verdict)
    gw.add_observer(gate)
    gw.add_component(gate)
    gw.gate = gate  # type: ignore[attr-defined]
    return gate
