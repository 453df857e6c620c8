"""One error root for Houqin; subclasses also inherit the matching builtin."""

from __future__ import annotations


class HouqinError(Exception):
    """Root of every error Houqin raises on purpose."""


class ConfigError(HouqinError, ValueError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` lists every problem found, each naming the file, the key, the bad value and the fix.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DecodeError(HouqinError, ValueError):
    """A message could not be turned into readings; ``reason`` is a short stable counter key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class StoreError(HouqinError, OSError):
    """A storage backend failed to write or read."""


class DamagedStoreError(StoreError):
    """A database file is damaged (not a database, malformed); ``path`` names it, the message says the fix."""

    def __init__(self, message: str, path: str) -> None:
        self.path = path
        super().__init__(message)


class LinkError(HouqinError, ConnectionError):
    """The MQTT link could not be set up (bad URL, TLS files, broker refused)."""
