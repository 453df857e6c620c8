"""The language of the CLI's messages: ``--lang``, else the config's ``[site] locale``, else zh-CN.

The language is known before the config is validated (``check-config`` must print its problems in it),
so it is read from the raw file; a file too broken to say falls back to the default.
"""

from __future__ import annotations

import argparse
import tomllib
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.config import default_config_path
from gateway.i18n import DEFAULT_LOCALE, LOCALES, tr, translations


def add_lang_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``--lang`` (``houqin --lang en CMD`` and ``houqin CMD --lang en`` both work)."""
    # apart on the top level: a subcommand's default (None) would overwrite what was given before it
    parser.add_argument("--lang", dest="top_lang" if top else "lang", choices=LOCALES, default=None,
                        help="language of messages and reports (default: the config's [reports] or [site] "
                             "locale, else zh-CN)")


def _peek(path: Path) -> str | None:
    try:
        raw: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    site = raw.get("site") if isinstance(raw, dict) else None
    locale = site.get("locale", DEFAULT_LOCALE) if isinstance(site, dict) else None
    return locale if locale in LOCALES else None


def cli_locale(args: argparse.Namespace) -> str:
    """The language to speak to the user of this command."""
    chosen = getattr(args, "lang", None) or getattr(args, "top_lang", None)
    if chosen in LOCALES:
        return str(chosen)
    cached = getattr(args, "_houqin_locale", None)
    if cached is None:
        path = getattr(args, "config", None) or getattr(args, "path", None) or default_config_path()
        cached = _peek(Path(path)) or DEFAULT_LOCALE
        args._houqin_locale = cached
    return str(cached)


def translator(args: argparse.Namespace) -> Callable[[str], str]:
    """``gettext`` of the command's language (for ``load_config``, which has no catalogs of its own)."""
    return translations(cli_locale(args)).gettext


def say(args: argparse.Namespace, message: str, **values: object) -> str:
    """``message`` (an English msgid with ``{named}`` values) in the command's language."""
    return tr(cli_locale(args), message, **values)


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns of a terminal, where a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)
