"""A site loads only what it uses: with the SQLite store, neither the InfluxDB client nor the embedded broker
is imported by what ``houqin run`` builds, nor cryptography (only encrypted visitor ID numbers need it): a Pi's
memory and start-up pay for every module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.gateway.ingest_helpers import write_config

ROOT = Path(__file__).resolve().parents[2]
UNUSED = ("influxdb_client", "httpx", "amqtt", "demo", "cryptography")


def test_a_sqlite_site_with_its_dashboard_imports_no_influxdb_client_nor_broker(tmp_path: Path) -> None:
    config = write_config(tmp_path / "houqin.toml", tmp_path / "data", "mqtt://127.0.0.1:1883")
    code = ("import json, sys\n"
            "import gateway.cli.run\n"
            "from gateway.config import load_config\n"
            "from gateway.app import build_gateway\n"
            "from dashboard.component import serve_dashboard\n"
            "site = build_gateway(load_config(sys.argv[1]))\n"
            "serve_dashboard(site)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    out = subprocess.run([sys.executable, "-c", code, str(config)], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "gateway" in loaded and "dashboard" in loaded  # the check itself saw the site's modules
    assert loaded.isdisjoint(UNUSED)
