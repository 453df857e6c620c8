"""``[backup]``: the nightly backup's target folder, how many to keep and when."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.reports.settings import parse_clock


class BackupSettings(BaseModel):
    """``[backup]``: a nightly copy of every database and secret file, e.g. to a USB stick."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    dir: str = ""
    """Folder the nightly backup writes into (e.g. ``"/media/usb/houqin-backup"``); empty: no nightly backup. It is not
    created: a missing folder (the stick was taken out) raises an alert."""
    keep: int = Field(default=7, ge=1, le=365)
    """How many backups are kept; older ones are deleted after a verified new one is written."""
    time: str = "03:30"
    """Local time (``HH:MM``) of the nightly backup."""
    alert_chain: str | None = None
    """The ``[notify.chains]`` chain told when a backup fails or its folder is missing (default: the alert default)."""

    @field_validator("time")
    @classmethod
    def _time(cls, v: str) -> str:
        parse_clock(v)
        return v
