"""Data and secrets readable by the service's user alone: a umask, and the modes of what is already there.

A data directory left 0755 with databases 0644 lets every local user read visitors' data and the keys
(issue 15: a tester as ``nobody`` read the approval-link key and forged a link that opens the gate).
"""

from __future__ import annotations

import os
from pathlib import Path

#: New files 0600, new directories 0700, whatever the shell or systemd unit said.
PRIVATE_UMASK = 0o077


def private_umask() -> None:
    """Set the process umask so that everything it creates is the service user's alone."""
    os.umask(PRIVATE_UMASK)


def make_private(directory: Path) -> None:
    """Narrow ``directory`` to 0700 and every file and directory under it to 0600/0700 (made if missing)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    for root, dirs, files in os.walk(directory):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o700)
        for f in files:
            path = os.path.join(root, f)
            if not os.path.islink(path):
                os.chmod(path, 0o600)
