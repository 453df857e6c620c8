"""Every text a dashboard user reads has a zh-CN translation (templates, labels, script strings, menus)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.ext import babel_extract

from dashboard.routes.common import NAV
from dashboard.templating import AREA_LABELS, AUDIT_ACTIONS, JS_STRINGS, LABELS, template_dir
from gateway.i18n import translations

TEMPLATES = sorted(Path(template_dir()).glob("*.html"))


def _msgids(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, singular, plural) of every ``_()``/``gettext``/``ngettext`` call in a template."""
    out: list[tuple[int, str, str | None]] = []
    with path.open("rb") as f:
        for lineno, _func, msg, _comments in babel_extract(f, ("_", "gettext", "ngettext"), [],
                                                           {"extensions": "jinja2.ext.i18n"}):
            msgs = msg if isinstance(msg, tuple) else (msg,)
            if msgs[0]:
                out.append((lineno, str(msgs[0]), str(msgs[1]) if len(msgs) > 1 and msgs[1] else None))
    return out


def test_the_extractor_finds_the_templates_texts() -> None:
    # guards the test below against passing because nothing was extracted
    assert len(TEMPLATES) >= 15
    found = {m for p in TEMPLATES for _, m, _pl in _msgids(p)}
    assert {"Open alerts", "Acknowledge", "Log in", "Gate alarms"} <= found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_text_has_a_chinese_translation(path: Path) -> None:
    tr = translations("zh-CN")
    missing = []
    for lineno, msg, plural in _msgids(path):
        got = tr.ngettext(msg, plural, 2) if plural else tr.gettext(msg)
        if not got or got == msg:
            missing.append(f"{path.name}:{lineno} {msg!r}")
    assert not missing, "add these to dashboard/locale/zh_CN/LC_MESSAGES/dashboard.po: " + "; ".join(missing)


def test_labels_audit_actions_script_strings_and_menus_have_chinese_translations() -> None:
    tr = translations("zh-CN")
    texts = [*LABELS.values(), *AREA_LABELS.values(), *JS_STRINGS.values(), *AUDIT_ACTIONS.values(),
             *(label for _, label in NAV)]
    missing = sorted({t for t in texts if tr.gettext(t) == t})
    assert not missing, f"untranslated in zh-CN: {missing}"
