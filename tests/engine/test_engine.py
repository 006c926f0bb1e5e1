"""The engine is pure: none of its modules imports Django, directly or through another module."""

import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "reports_app" / "engine"


def test_no_engine_module_imports_django():
    modules = sorted(f"reports_app.engine.{path.stem}" for path in ENGINE.glob("*.py") if path.stem != "__init__")
    assert "reports_app.engine.parsing" in modules and len(modules) >= 9
    probe = (
        f"import sys; import {', '.join(modules)}; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('django', 'reports_app')} "
        "| {m for m in sys.modules if m.startswith('reports_app.') and not m.startswith('reports_app.engine')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ENGINE.parents[1], check=True
    )
    assert result.stdout.strip() == "['reports_app']"
