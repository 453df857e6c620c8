"""Photos taken with checklists, hazards and repairs: JPEG or PNG only (by their first bytes), bounded in size,
kept on disk under ``<storage>/photos`` by the hash of their content (the same photo is stored once)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gateway.i18n import tr

#: Image types a photo may be, by the bytes it starts with.
PHOTO_TYPES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}


class PhotoError(ValueError):
    """A photo refused; the message says why (in the user's language)."""


class Photos:
    """The photo folder of a site."""

    def __init__(self, directory: Path, max_kb: int) -> None:
        self.dir = directory
        self.max_bytes = max_kb * 1024

    def save(self, data: bytes, locale: str = "en") -> str:
        """Store a photo; returns its file name. Raises PhotoError for a wrong type or size."""
        if len(data) > self.max_bytes:
            raise PhotoError(tr(locale, "photo: larger than {kb} KB; take a smaller one", kb=self.max_bytes // 1024))
        ext = next((e for magic, e in PHOTO_TYPES.items() if data.startswith(magic)), None)
        if ext is None:
            raise PhotoError(tr(locale, "photo: send a JPEG or PNG image"))
        name = f"{hashlib.sha256(data).hexdigest()[:32]}.{ext}"
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / name
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return name

    def path(self, name: str) -> Path | None:
        """The stored photo of this name (names are checked: never a path)."""
        stem, _, ext = name.partition(".")
        if len(stem) != 32 or not all(ch in "0123456789abcdef" for ch in stem) or ext not in PHOTO_TYPES.values():
            return None
        path = self.dir / name
        return path if path.is_file() else None
