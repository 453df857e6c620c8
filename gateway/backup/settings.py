"""``[backup]``: the nightly backup's target folder, how many to keep and when."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field

from gateway.values import ClockTime


class BackupSettings(BaseModel):
    """``[backup]``: a nightly copy of every database and secret file, e.g. to a USB stick."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True)

    dir: str = ""
    """Folder the nightly backup writes into (e.g. ``"/media/usb/houqin-backup"``); empty: no nightly backup. It is not
    created: a missing folder (the stick was taken out) raises an alert."""
    keep: int = Field(default=7, ge=1, le=365)
    """How many backups are kept; older ones are deleted after a verified new one is written."""
    at: ClockTime = Field(default=time(3, 30), alias="time")
    """Local time (``HH:MM``) of the nightly backup."""
    alert_chain: str | None = None
    """The ``[notify.chains]`` chain told when a backup fails or its folder is missing (default: the alert default)."""
