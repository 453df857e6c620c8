"""Alert records as the rest of the gateway (dashboard, CLI, notifiers) sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gateway.errors import HouqinError

AlertState = Literal["active", "acknowledged", "cleared"]
Severity = Literal["critical", "major", "minor", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor", "warning")
#: What happened to an alert, as told to listeners and notifiers.
ChangeKind = Literal["opened", "acknowledged", "ended", "cleared"]


class _Said(HouqinError):
    """An error whose English text is a msgid with ``{named}`` values, said in the reader's language by ``text``."""

    def __init__(self, msgid: str, /, **values: object) -> None:
        self.msgid = msgid
        self.values = values
        super().__init__(msgid.format(**values))

    def text(self, locale: str) -> str:
        """The message in ``locale``."""
        from gateway.i18n import tr  # the catalogs only when someone reads the message
        return tr(locale, self.msgid, **self.values)


class AlertNotFoundError(_Said, KeyError):
    """No alert with that id."""


class AlertStateError(_Said, ValueError):
    """The alert is not in a state that allows the action (e.g. acknowledging a cleared alert)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of one rule on one device."""

    id: int
    rule: str
    device: str
    kind: str
    severity: str
    state: AlertState
    chain: str | None
    metric: str | None
    value: float | None
    detail: str
    since: float
    opened_at: float
    acked_by: str | None = None
    acked_at: float | None = None
    ack_note: str | None = None
    ended_at: float | None = None
    cleared_at: float | None = None
    latch: bool = False

    @property
    def is_open(self) -> bool:
        """Not cleared yet."""
        return self.state != "cleared"

    def summary(self) -> dict[str, Any]:
        """The CLI's ``--json`` object: id, rule, device, state, severity, opened_at, acked_by, cleared_at."""
        return {"id": self.id, "rule": self.rule, "device": self.device, "state": self.state,
                "severity": self.severity, "opened_at": self.opened_at, "acked_by": self.acked_by,
                "cleared_at": self.cleared_at}

    def as_dict(self) -> dict[str, Any]:
        """Every field, for JSON APIs."""
        return {"id": self.id, "rule": self.rule, "device": self.device, "kind": self.kind,
                "severity": self.severity, "state": self.state, "chain": self.chain, "metric": self.metric,
                "value": self.value, "detail": self.detail, "since": self.since, "opened_at": self.opened_at,
                "acked_by": self.acked_by, "acked_at": self.acked_at, "ack_note": self.ack_note,
                "ended_at": self.ended_at, "cleared_at": self.cleared_at}


@dataclass(frozen=True, slots=True)
class Change:
    """A change of an alert as its timeline recorded it (``id`` orders them), with the alert as it is now."""

    id: int
    kind: ChangeKind
    ts: float
    alert: Alert


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an alert's history: opened, acknowledged, cleared, notified, delivery failed..."""

    ts: float
    what: str
    by: str | None = None
    note: str | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class AlertChange:
    """Told to listeners after an alert changed (committed)."""

    kind: ChangeKind
    alert: Alert
