"""Alerts: the persisted lifecycle (active → acknowledged → cleared) and its Python API."""

from gateway.alerts.model import Alert, AlertChange, AlertNotFoundError, AlertStateError, TimelineEntry
from gateway.alerts.service import AlertService
from gateway.alerts.store import AlertStore

__all__ = ["Alert", "AlertChange", "AlertNotFoundError", "AlertService", "AlertStateError", "AlertStore",
           "TimelineEntry"]
