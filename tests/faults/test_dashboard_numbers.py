"""Every numeric query and path parameter of every route refuses NaN, infinities and huge numbers with 422."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant

from dashboard.app import api_routes
from tests.dashboard.helpers import login_ok, served_site

FLOATS = ("NaN", "nan", "inf", "-Infinity", "-1e308", "1e308")
INTS = ("99999999999999999999999", "-99999999999999999999", "NaN", "1e308")
FILL = {"device_id": "fridge-1", "action": "approve", "relay": "gate", "username": "ada", "token": "x",
        "checklist_id": "kitchen-daily", "name": "x.jpg", "room_id": "class-1", "step": "started"}


def _params(d: Dependant) -> tuple[list[Any], list[Any]]:
    """Path and query parameters of a route and of all its dependencies."""
    path, query = list(d.path_params), list(d.query_params)
    for sub in d.dependencies:
        p, q = _params(sub)
        path += p
        query += q
    return path, query


def _fill(template: str, ints: dict[str, type | None], given: dict[str, str]) -> str:
    """The path with ``given`` values, 1 for the other numeric parameters and FILL for the rest."""
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        return given.get(name) or ("1" if ints.get(name) else FILL[name])
    return re.sub(r"\{(\w+)\}", value, template)


def _numeric(annotation: Any) -> type | None:
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for kind in (float, int):
        if kind in args:
            return kind
    return None


def test_hostile_numbers_get_422_on_every_route(tmp_path: Path) -> None:
    with served_site(tmp_path) as (site, server):
        cases: list[tuple[str, str, dict[str, str]]] = []
        for route in api_routes(site.app.routes):
            path_params, query_params = _params(route.dependant)
            ints = {f.alias: _numeric(f.field_info.annotation) for f in path_params}
            for method in sorted(route.methods or ()):
                if method == "HEAD":
                    continue
                for f in query_params:
                    kind = _numeric(f.field_info.annotation)
                    if kind is not None:
                        base = _fill(route.path, ints, {})
                        for bad in FLOATS if kind is float else INTS:
                            extra = "&metric=temperature" if "readings" in base else ""
                            cases.append((method, f"{base}?{f.alias}={bad}{extra}", {}))
                for name, kind in ints.items():
                    if kind is None:
                        continue
                    for bad in INTS:
                        cases.append((method, _fill(route.path, ints, {name: bad}), {}))
        assert len(cases) > 40  # the walk found the parameters
        c = httpx.Client(base_url=server.url, timeout=10)
        try:
            csrf = login_ok(c, "ada")
            failures = {}
            for method, path, _ in cases:
                try:
                    r = c.request(method, path, headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
                except httpx.TransportError as e:  # the old code reset the connection on some
                    failures[f"{method} {path}"] = type(e).__name__
                    continue
                if r.status_code != 422:
                    failures[f"{method} {path}"] = r.status_code
            sample = ('{"meal_date": "2026-09-01", "meal": "lunch", "dishes": [["rice", NaN]], "fridge": "fridge-1",'
                      ' "staff": "li"}')  # Python's JSON parser takes NaN
            r = c.post("/api/samples", content=sample,
                       headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
            if r.status_code != 422:
                failures["POST /api/samples with NaN grams"] = r.status_code
        finally:
            c.close()
        assert failures == {}
