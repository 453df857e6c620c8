"""The note an acknowledgement needs: the corrective action, never empty (as ``houqin ack --note``)."""

from __future__ import annotations

from gateway.i18n import gettext

#: Longest note kept (the form and the API both cap it here).
MAX_NOTE = 2000

#: What the JSON API answers to an empty note (msgid; the pages say it with the error page's texts).
NOTE_REQUIRED = ("Say what was done: an acknowledgement needs a note with the corrective action, "
                 "e.g. “moved the food to the spare fridge”.")


def clean_note(raw: str) -> str:
    """``raw`` without surrounding blanks and capped at ``MAX_NOTE``; empty when nothing was said."""
    return raw.strip()[:MAX_NOTE]


def note_required(locale: str) -> str:
    """The empty-note refusal in ``locale``."""
    return gettext(locale, NOTE_REQUIRED)
