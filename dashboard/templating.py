"""Jinja2 rendering: one autoescaping environment per locale with the gettext catalogs and filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.utils import htmlsafe_json_dumps

from gateway.i18n import LOCALES, translations
from gateway.kinds import KINDS

#: English msgids for enum-like values shown to people (translated through the catalogs); device kinds
#: are named by their table.
LABELS: Mapping[str, str] = {
    **{kind.id: kind.label for kind in KINDS.values()},
    "cold_storage": "Cold storage", "utilities": "Utilities", "other": "Other",
    "active": "active", "acknowledged": "acknowledged", "cleared": "cleared",
    "critical": "critical", "major": "major", "minor": "minor", "warning": "warning",
    "admin": "admin", "district-admin": "district-admin",
    "guard": "guard", "kitchen": "kitchen", "facilities": "facilities", "viewer": "viewer",
    "opened": "opened", "ended": "ended", "notified": "notified", "delivered": "delivered",
    "delivery failed": "delivery failed", "escalated": "escalated", "not notified": "not notified",
    "card": "card", "button": "exit button", "open": "opened", "closed": "closed", "forced": "forced open",
    "held_open": "held open", "release": "lock released",
    "green": "all well", "amber": "needs a look", "red": "act now",
}

#: Dashboard areas (``gate`` is also a device kind, so areas have their own labels).
AREA_LABELS: Mapping[str, str] = {"cold_storage": "Cold storage", "utilities": "Utilities", "gate": "Gate",
                                  "other": "Other"}

#: Audit log actions as the Admin page shows them (an action not listed shows its code).
AUDIT_ACTIONS: Mapping[str, str] = {
    "login": "logged in", "login_failed": "failed login", "login_throttled": "login refused (too many failures)",
    "logout": "logged out", "password_changed": "changed their password", "alert_ack": "acknowledged alert",
    "user_added": "added user", "user_role": "changed the role of", "user_disable": "disabled user",
    "user_enable": "enabled user", "user_password": "set the password of",
    "visitor_registered": "registered visitor", "visitor_approve": "approved visitor",
    "visitor_refuse": "refused visitor", "visitor_signin": "signed in visitor", "visitor_signout": "signed out visitor",
    "watch_added": "added to the watch list", "watch_removed": "removed from the watch list",
    "handover_written": "wrote a handover note", "handover_acked": "acknowledged a handover note",
    "card_added": "added card", "card_disable": "disabled card", "card_enable": "enabled card",
    "card_delete": "deleted card", "sample_registered": "registered food sample",
    "sample_discarded": "discarded food sample", "sheet_correction": "corrected the cold-storage sheet",
    "gate_release": "released the lock of",
    "disinfection_entry": "recorded a disinfection of", "uv_lamp_replaced": "recorded a new UV lamp in",
    "checklist_done": "completed a checklist", "hazard_reported": "reported a hazard",
    "hazard_step": "moved a hazard on", "repair_reported": "reported a fault", "repair_step": "moved a repair on",
}

#: Strings the page script shows (live alerts, gate state), translated once per locale.
JS_STRINGS: Mapping[str, str] = {
    "acknowledge": "Acknowledge", "note": "Corrective action / note", "new_alert": "New alert",
    "opened": "opened", "closed": "closed", "acknowledged": "acknowledged", "cleared": "cleared", "active": "active",
    "card": "card", "button": "exit button", "open": "opened", "forced": "forced open", "held_open": "held open",
    "release": "lock released",
    "disconnected": "Live updates paused; reconnecting…", "logged_out": "Your session ended; log in again.",
    "no_data": "no data yet", "limit": "limit", "gate_open": "OPEN", "gate_closed": "CLOSED", "since": "since",
    "critical": "critical", "major": "major", "minor": "minor", "warning": "warning",
    "online": "online", "offline": "offline",
    "sound_off": "The alarm sound is off: tap here to turn it on",
    # card decisions pushed to the gate page (the msgids of the gate desk's catalog)
    "card_refused": "Card refused", "card_accepted": "Card accepted", "unknown_card": "unknown card",
    "refused": "refused",
    "reason_unknown": "unknown card", "reason_disabled": "card disabled", "reason_out_of_hours": "out of hours",
    "reason_expired": "card expired", "reason_late": "read too late to open",
    "reason_forged": "forged or replayed read",
}

_DATE_PATTERNS = {"zh-CN": "M月d日 HH:mm", "en": "d MMM HH:mm"}
_TIME_PATTERNS = {"zh-CN": "HH:mm:ss", "en": "HH:mm:ss"}


def _babel_locale(locale: str) -> str:
    return locale.replace("-", "_")


def template_dir() -> str:
    """The package's templates folder."""
    return str(resources.files("dashboard") / "templates")


def static_dir() -> str:
    """The package's static assets folder."""
    return str(resources.files("dashboard") / "static")


class Templates:
    """Environments per locale (zh-CN, en), so a request never changes another's language."""

    def __init__(self, tz: ZoneInfo, clock_now: Callable[[], float], dirs: Sequence[str] = ()) -> None:
        """``dirs``: template folders searched before the dashboard's (the district service's pages)."""
        self._envs = {loc: self._make(loc, tz, clock_now, dirs) for loc in LOCALES}

    def env(self, locale: str) -> Environment:
        """The environment of ``locale`` (the first locale when unknown)."""
        return self._envs.get(locale) or self._envs[LOCALES[0]]

    def render(self, locale: str, name: str, context: Mapping[str, Any]) -> str:
        """Render template ``name`` in ``locale``."""
        return self.env(locale).get_template(name).render(context)

    @staticmethod
    def _make(locale: str, tz: ZoneInfo, clock_now: Callable[[], float], dirs: Sequence[str]) -> Environment:
        env = Environment(
            loader=FileSystemLoader([*dirs, template_dir()]),
            autoescape=True,  # every template, whatever its extension
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            auto_reload=False,  # templates ship with the package; no stat() per render
            trim_blocks=True,
            lstrip_blocks=True,
        )
        tr = translations(locale)
        env.install_gettext_translations(tr, newstyle=True)  # type: ignore[attr-defined]
        bl = _babel_locale(locale)

        def dt(ts: float | None) -> str:
            if ts is None:
                return "—"
            return format_datetime(datetime.fromtimestamp(ts, tz), _DATE_PATTERNS[locale], locale=bl)

        def clock(ts: float | None) -> str:
            if ts is None:
                return "—"
            return format_datetime(datetime.fromtimestamp(ts, tz), _TIME_PATTERNS[locale], locale=bl)

        def num(value: float | None, digits: int = 1) -> str:
            if value is None:
                return "—"
            return format_decimal(round(value, digits), format=f"#,##0.{'0' * digits}" if digits else "#,##0",
                                  locale=bl)

        def ago(ts: float | None) -> str:
            if ts is None:
                return tr.gettext("never")
            s = max(0, int(clock_now() - ts))
            if s < 60:
                return tr.ngettext("%(num)d second ago", "%(num)d seconds ago", s) % {"num": s}
            if s < 3600:
                return tr.ngettext("%(num)d minute ago", "%(num)d minutes ago", s // 60) % {"num": s // 60}
            if s < 86400:
                return tr.ngettext("%(num)d hour ago", "%(num)d hours ago", s // 3600) % {"num": s // 3600}
            return tr.ngettext("%(num)d day ago", "%(num)d days ago", s // 86400) % {"num": s // 86400}

        def label(value: str | None) -> str:
            if value is None:
                return "—"
            return tr.gettext(LABELS.get(value, value))

        def area(value: str) -> str:
            return tr.gettext(AREA_LABELS.get(value, value))

        def action(value: str) -> str:
            return tr.gettext(AUDIT_ACTIONS[value]) if value in AUDIT_ACTIONS else value

        env.filters.update(dt=dt, clock=clock, num=num, ago=ago, label=label, area=area, action=action)
        # htmlsafe_json_dumps escapes <, >, & and ' so the JSON cannot end its <script> element
        env.globals["js_strings"] = htmlsafe_json_dumps({k: tr.gettext(v) for k, v in JS_STRINGS.items()})
        env.globals["locale"] = locale
        env.globals["html_lang"] = "zh-CN" if locale == "zh-CN" else "en"
        return env
