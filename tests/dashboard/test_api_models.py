"""Every /api route declares its answer in OpenAPI, and the JSON it sends has no key the schema does not name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.model import Reading
from tests.dashboard.helpers import login_ok, make_site
from tests.reports.dash import make_report_site

JSON = "application/json"
ID_NUMBER = "110101199003071234"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def _undeclared(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> list[str]:
    """Paths of keys in ``value`` that ``schema`` does not describe."""
    schema = _resolve(spec, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        typed = [o for o in (_resolve(spec, o) for o in options) if o.get("type") != "null"]
        if value is None or not typed:
            return []
        return min((_undeclared(spec, o, value, where) for o in typed), key=len)
    if isinstance(value, dict) and "properties" in schema:
        out = [f"{where}.{k}" for k in value if k not in schema["properties"]]
        for k, v in value.items():
            if k in schema["properties"]:
                out += _undeclared(spec, schema["properties"][k], v, f"{where}.{k}")
        return out
    if isinstance(value, list) and "items" in schema:
        return [p for i, v in enumerate(value[:5]) for p in _undeclared(spec, schema["items"], v, f"{where}[{i}]")]
    return []


def _answer_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    responses = spec["paths"][path][method]["responses"]
    ok = responses.get("200") or responses.get("201")
    assert ok is not None, f"{method.upper()} {path}: no success response"
    schema: dict[str, Any] = ok.get("content", {}).get(JSON, {}).get("schema", {})
    return schema


def test_every_api_route_has_a_typed_answer(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    try:
        spec = site.app.openapi()
        untyped = []
        for path, methods in spec["paths"].items():
            if not path.startswith("/api/") or path == "/api/live":
                continue
            for method in methods:
                schema = _answer_schema(spec, path, method)
                if schema.get("type") == "array":
                    schema = _resolve(spec, schema.get("items", {}))
                if not schema or (schema.get("type") == "object" and "properties" not in schema):
                    untyped.append(f"{method.upper()} {path}")
        assert not untyped, f"no response model: {untyped}"
    finally:
        site.close()


def _check(spec: dict[str, Any], client: TestClient, path: str, template: str | None = None,
           method: str = "get", **kw: Any) -> Any:
    r = client.request(method.upper(), path, **kw)
    assert r.status_code in (200, 201), (path, r.status_code, r.text[:300])
    body = r.json()
    extra = _undeclared(spec, _answer_schema(spec, template or path.split("?")[0], method), body, "$")
    assert not extra, f"{method.upper()} {path}: keys the schema does not name: {extra}"
    return body


def test_dashboard_and_gate_answers_match_their_schemas(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    try:
        spec = site.app.openapi()
        now = site.clock.now()
        site.store.write([Reading(now - 60, "fridge-1", "temperature", 4.2)])
        aid = site.open_alert("fridge-1", severity="critical")
        gate = site.app.state.gate
        gate.register_visitor(name="Visitor A", host="Teacher Li", id_number=ID_NUMBER)
        with TestClient(site.app) as c:
            csrf = login_ok(c, "ada")
            for path in ("/api/ping", "/api/me", "/api/overview", "/api/devices", "/api/latest", "/api/alerts",
                         "/api/gate/events", "/api/users", "/api/gate/access", "/api/gate/onsite",
                         "/api/gate/visitors", "/api/gate/cards", "/api/gate/patrols", "/api/gate/handover"):
                _check(spec, c, path)
            _check(spec, c, f"/api/alerts/{aid}", "/api/alerts/{alert_id}")
            _check(spec, c, "/api/devices/fridge-1/readings?metric=temperature", "/api/devices/{device_id}/readings")
            _check(spec, c, "/api/gate/cards", method="post", json={"uid": "aa01", "holder": "Teacher Li"},
                   headers={"X-CSRF-Token": csrf})
            _check(spec, c, f"/api/alerts/{aid}/ack", "/api/alerts/{alert_id}/ack", method="post",
                   json={"note": "door closed"}, headers={"X-CSRF-Token": csrf})
    finally:
        site.close()


def test_report_answers_match_their_schemas(tmp_path: Path) -> None:
    site = make_report_site(tmp_path)
    try:
        spec = site.app.openapi()
        with TestClient(site.app) as c:
            csrf = login_ok(c, "ada")
            _check(spec, c, "/api/reports/weekly?week=2026-W02", "/api/reports/weekly")
            day = _check(spec, c, "/api/reports/sheet?day=2026-01-05", "/api/reports/sheet")
            assert set(day) == {"day", "lines"}  # the same JSON as before: no "month": null
            assert set(_check(spec, c, "/api/reports/sheet?month=2026-01", "/api/reports/sheet")) == {"month", "lines"}
            _check(spec, c, "/api/samples?month=2026-01", "/api/samples")
            _check(spec, c, "/api/samples", method="post", headers={"X-CSRF-Token": csrf},
                   json={"meal_date": "2026-01-07", "meal": "snack", "dishes": [["饼干", 150]],
                         "fridge": "sample-fridge", "staff": "王师傅"})
            _check(spec, c, "/api/samples/1/discard", "/api/samples/{sample_id}/discard", method="post", json={},
                   headers={"X-CSRF-Token": csrf})
    finally:
        site.close()
