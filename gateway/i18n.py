"""Translations from gettext catalogs (``.po`` files compiled in memory with Babel), zh-CN and en.

Catalogs live in ``<package>/locale/<ll_CC>/LC_MESSAGES/<domain>.po`` for the packages in
``CATALOG_PACKAGES``; every domain found for a locale is merged into one ``Translations`` object, so
the dashboard and the notification texts share one set of catalogs. English is the source language.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOG_PACKAGES = ("gateway", "dashboard", "district")
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


def _dir_name(locale: str) -> str:
    return locale.replace("-", "_")


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """Merged translations for ``locale`` (``"zh-CN"`` or ``"en"``); English falls through to msgids."""
    merged: NullTranslations = NullTranslations()
    for package in CATALOG_PACKAGES:
        try:
            base = resources.files(package) / "locale" / _dir_name(locale) / "LC_MESSAGES"
            entries = sorted(base.iterdir(), key=lambda e: e.name) if base.is_dir() else []
        except (ModuleNotFoundError, FileNotFoundError):
            continue
        for entry in entries:
            if not entry.name.endswith(".po"):
                continue
            with entry.open("rb") as f:
                catalog = read_po(f, locale=_dir_name(locale))
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            t = Translations(fp=buf, domain=entry.name[:-3])
            if isinstance(merged, Translations):
                merged.merge(t)
            else:
                merged = t
    return merged


def gettext(locale: str, message: str) -> str:
    """Translate one message."""
    return translations(locale).gettext(message)


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    """Translate a message with a count."""
    return translations(locale).ngettext(singular, plural, n)


def tr(locale: str, message: str, **values: object) -> str:
    """Translate ``message`` and fill its ``{named}`` values."""
    return gettext(locale, message).format(**values)
