"""Errors people at the gate read (the guard, the person visited on a phone): an English message with
named values, shown in the reader's language through the shared catalogs."""

from __future__ import annotations

from gateway.errors import HouqinError
from gateway.i18n import gettext

#: A visitor's state as messages name it (msgids shared with the gate pages).
STATE_WORDS = {"pending": "waiting for approval", "approved": "approved", "refused": "refused",
               "on_site": "on site", "left": "left"}


class GateError(HouqinError, ValueError):
    """A gate action that cannot be done; ``str()`` is English, ``text(locale)`` the reader's language."""

    def __init__(self, msgid: str, /, **values: object) -> None:
        self.msgid = msgid
        self.values = values
        super().__init__(msgid.format(**values) if values else msgid)

    def text(self, locale: str) -> str:
        """The message in ``locale`` (a visitor's ``state`` is translated too)."""
        values = dict(self.values)
        if isinstance(values.get("state"), str):
            values["state"] = gettext(locale, str(values["state"]))
        msg = gettext(locale, self.msgid)
        return msg.format(**values) if values else msg


def state_word(status: str) -> str:
    """The msgid naming a visitor's status in messages."""
    return STATE_WORDS.get(status, status.replace("_", " "))
