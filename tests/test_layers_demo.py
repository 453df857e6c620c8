"""Demo apart from production: gateway, sensors and dashboard never import the demo package or amqtt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.gateway.ingest_helpers import write_config

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("gateway", "sensors", "dashboard")


def test_production_modules_import_neither_demo_nor_amqtt() -> None:
    # a fresh interpreter: the test process itself has imported demo for other tests
    code = (
        "import sys\n"
        "import gateway.cli, gateway.app, sensors.agent, dashboard.app\n"
        "gateway.cli.build_parser()\n"  # every command module, as `houqin --help` loads them
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('demo', 'amqtt'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _demo_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, at module level) of every import of the demo package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                   for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        if any(n == "demo" or n.startswith("demo.") for n in names):
            found.append((node.lineno, id(node) not in in_function))
    return found


def test_only_the_cli_imports_demo_and_only_inside_the_command_that_runs_it() -> None:
    wrong = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module_level in _demo_imports(path):
                where = path.relative_to(ROOT)
                # `houqin demo` and `houqin sensors --simulate` run demo code: imported when they run, not before
                if module_level or where.parts[:2] != ("gateway", "cli"):
                    wrong.append(f"{where}:{line}")
    assert wrong == []


def test_embedded_broker_without_amqtt_says_to_install_the_demo_extra(tmp_path: Path) -> None:
    config = write_config(tmp_path / "houqin.toml", tmp_path / "data", "embedded")
    # sys.modules["amqtt"] = None makes `import amqtt` fail as if it were not installed
    code = ("import sys; sys.modules['amqtt'] = None\n"
            "from gateway.cli import main\n"
            "sys.exit(main(['run', '--config', sys.argv[1]]))\n")
    out = subprocess.run([sys.executable, "-c", code, str(config)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1, out.stderr
    assert "[mqtt] url = \"embedded\" needs the demo extra: pip install 'houqin[demo]'" in out.stderr
    assert "Traceback" not in out.stderr
