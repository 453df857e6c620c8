"""The district service's roles, which of them may use each route, and their navigation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

DistrictRole = Literal["district-admin", "viewer"]
ROLES: tuple[DistrictRole, ...] = get_args(DistrictRole)
#: The role of which one enabled user must remain.
ADMIN: DistrictRole = "district-admin"

_ALL = frozenset(ROLES)

#: ``(method, path template) -> roles``; a route missing here is refused (public routes: ``dashboard.roles.PUBLIC``).
ACCESS: Mapping[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): _ALL,
    ("GET", "/sites"): _ALL,
    ("GET", "/api/overview"): _ALL,
    ("GET", "/cold"): _ALL,
    ("GET", "/api/cold"): _ALL,
    ("GET", "/saving"): _ALL,
    ("GET", "/api/saving"): _ALL,
    ("GET", "/account"): _ALL,
    ("POST", "/logout"): _ALL,
    ("POST", "/account/locale"): _ALL,
    ("POST", "/account/password"): _ALL,
}

#: Navigation entries: (path, English label).
NAV: tuple[tuple[str, str], ...] = (("/", "Overview"), ("/cold", "Cold chain"), ("/saving", "Saving"))


def allowed(role: str, method: str, path: str) -> bool:
    """True when ``role`` may call ``method path`` (``HEAD`` counts as ``GET``)."""
    return role in ACCESS.get(("GET" if method == "HEAD" else method, path), frozenset())


def nav_for(role: str) -> list[tuple[str, str]]:
    """The navigation entries this role may open."""
    return [(path, label) for path, label in NAV if allowed(role, "GET", path)]
