"""``/metrics``: the gateway's counters and levels through ``prometheus_client``, in a registry per app.

Components keep plain ``stats()`` mappings; this module is the one place that says which of their keys
count up (counters, exposed with ``_total``) and which are levels (gauges), with a HELP line for each. A key
not listed here is exposed as a gauge with a generic HELP, so a new statistic shows up before it is typed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboard.live import LiveHub
from dashboard.services import DashboardServices
from dashboard.sessions import Sessions

log = logging.getLogger(__name__)

Kind = Literal["counter", "gauge"]


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What one statistic is: a counter or a gauge, its HELP text and its label for a mapping."""

    kind: Kind
    help: str
    label: str = ""


#: ``(source, key)`` of every known statistic (``source`` is the name in ``DashboardServices.stats_sources``).
METRICS: Mapping[tuple[str, str], MetricInfo] = {
    ("ingest", "received"): MetricInfo("counter", "MQTT messages received and queued for the writer."),
    ("ingest", "messages"): MetricInfo("counter", "MQTT messages committed."),
    ("ingest", "readings"): MetricInfo("counter", "Readings committed to the time-series store."),
    ("ingest", "events"): MetricInfo("counter", "Device events (cards, buttons) committed."),
    ("ingest", "duplicates"): MetricInfo("counter", "Messages dropped as repeats of a sequence number."),
    ("ingest", "ignored"): MetricInfo("counter", "Message parts of configured devices with nothing to store "
                                                 "(e.g. a Shelly's Wi-Fi status)."),
    ("ingest", "refused"): MetricInfo("counter", "Messages or values refused, by reason (dead letters).", "reason"),
    ("ingest", "refused_total"): MetricInfo("counter", "Messages or values refused, all reasons."),
    ("ingest", "batches"): MetricInfo("counter", "Batches committed."),
    ("ingest", "acked"): MetricInfo("counter", "Messages acknowledged to the broker after their commit."),
    ("ingest", "commit_errors"): MetricInfo("counter", "Batches whose commit failed (retried by the broker)."),
    ("ingest", "queue_depth"): MetricInfo("gauge", "Messages waiting for the writer."),
    ("ingest", "queue_size"): MetricInfo("gauge", "Bound of the writer's queue."),
    ("ingest", "last_commit"): MetricInfo("gauge", "Unix time of the last commit."),
    ("ingest", "commit_failing_since"): MetricInfo("gauge", "Unix time commits started failing (absent while "
                                                            "they succeed)."),
    ("ingest", "oldest_unacked"): MetricInfo("gauge", "Unix time the oldest message not yet acknowledged arrived "
                                                      "(absent when all are)."),
    ("ingest", "route_cache"): MetricInfo("gauge", "Topics remembered with their routes."),
    ("alerting", "rules_batches"): MetricInfo("counter", "Batches evaluated by the rule engine."),
    ("alerting", "rules_dropped_batches"): MetricInfo("counter", "Batches not evaluated: the rule queue was full."),
    ("alerting", "rules_errors"): MetricInfo("counter", "Rule evaluations that failed."),
    ("alerting", "rules_queued"): MetricInfo("gauge", "Batches waiting for the rule engine."),
    ("alerting", "notify_sent"): MetricInfo("counter", "Notifications delivered, by channel.", "channel"),
    ("alerting", "notify_failed_attempts"): MetricInfo("counter", "Delivery attempts that failed, by channel.",
                                                       "channel"),
    ("alerting", "notify_retried"): MetricInfo("counter", "Deliveries retried, by channel.", "channel"),
    ("alerting", "notify_gave_up"): MetricInfo("counter", "Notifications given up after every attempt, by channel.",
                                               "channel"),
    ("alerting", "notify_dropped"): MetricInfo("counter", "Notifications dropped: the channel's queue was full.",
                                               "channel"),
    ("alerting", "notify_queued"): MetricInfo("gauge", "Notifications waiting for delivery, by channel.", "channel"),
}

#: What ``generate_latest`` writes: the text format every Prometheus version reads (Debian's included).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"

_NAME_BAD = re.compile(r"[^a-zA-Z0-9_]")


def _name(*parts: str) -> str:
    return "houqin_" + "_".join(_NAME_BAD.sub("_", p) for p in parts if p)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


class StatsCollector(Collector):
    """Reads every component's ``stats()``, the open alerts, live clients and sessions at each scrape."""

    def __init__(self, services: DashboardServices, hub: LiveHub, sessions: Sessions) -> None:
        self._services = services
        self._hub = hub
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        """One family per statistic, typed from ``METRICS``."""
        for source, obj in sorted(self._services.stats_sources.items()):
            try:
                stats = obj.stats()
            except Exception:
                log.exception("stats() of %s failed", source)
                continue
            yield from self._families(source, "", stats)
        yield from self._alerts()
        live = GaugeMetricFamily(_name("dashboard", "live_clients"), "Browsers following the live stream.")
        live.add_metric([], self._hub.clients)
        yield live
        sessions = GaugeMetricFamily(_name("dashboard", "sessions"), "Dashboard sessions not expired.")
        sessions.add_metric([], self._sessions.count())
        yield sessions

    def _families(self, source: str, prefix: str, stats: Mapping[str, Any]) -> Iterator[Metric]:
        for key, value in sorted(stats.items()):
            full = f"{prefix}_{key}" if prefix else str(key)
            info = METRICS.get((source, full)) or MetricInfo("gauge", f"{source} statistic {full}.", "key")
            if isinstance(value, Mapping):
                leaves = {str(k): _number(v) for k, v in value.items()}
                if leaves and all(v is not None for v in leaves.values()):  # label -> number: one labelled family
                    family = _family(info, _name(source, full), [info.label or "key"])
                    for label, number in sorted(leaves.items()):
                        family.add_metric([label], number or 0.0)
                    yield family
                else:
                    yield from self._families(source, full, value)
                continue
            number = _number(value)
            if number is not None:
                family = _family(info, _name(source, full), [])
                family.add_metric([], number)
                yield family

    def _alerts(self) -> Iterator[Metric]:
        if self._services.alerts is None:
            return
        try:
            open_ = self._services.alerts.list(open_only=True, limit=10000)
        except Exception:
            log.exception("counting alerts failed")
            return
        counts: dict[tuple[str, str], int] = {}
        for a in open_:
            counts[(a.state, a.severity)] = counts.get((a.state, a.severity), 0) + 1
        family = GaugeMetricFamily(_name("alerts", "open"), "Open alerts, by state and severity.",
                                   labels=["state", "severity"])
        for (state, severity), n in sorted(counts.items()):
            family.add_metric([state, severity], n)
        yield family


def _family(info: MetricInfo, name: str, labels: list[str]) -> CounterMetricFamily | GaugeMetricFamily:
    if info.kind == "counter":
        return CounterMetricFamily(name, info.help, labels=labels)
    return GaugeMetricFamily(name, info.help, labels=labels)


def metrics_registry(services: DashboardServices, hub: LiveHub, sessions: Sessions) -> CollectorRegistry:
    """A registry of this app alone (never the process-wide default one: two apps in a process stay apart)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatsCollector(services, hub, sessions))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(registry)
