"""Mosquitto set-up for one site: per-client passwords, an ACL, a site CA and the broker's listeners.

``houqin mqtt setup`` writes every file from the site's config; ``add-device``, ``rotate`` and ``remove``
change one client's credentials and rules and make the running broker reload them.
"""

from pathlib import Path

#: The folder the install script uses; ``houqin.conf`` in it is linked from /etc/mosquitto/conf.d.
DEFAULT_DIR = Path("/etc/mosquitto/houqin")
#: Debian's broker writes its pid here (``houqin mqtt`` signals it to reload users and ACL).
DEFAULT_PID_FILE = Path("/run/mosquitto/mosquitto.pid")
