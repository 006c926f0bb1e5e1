"""The settings imported in a clean process, with the environment a test gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project folder


def start(**env: str) -> subprocess.CompletedProcess:
    """Import the settings with `env` added to a clean environment; print the secret key's source."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    code = (
        "from django.conf import settings; import course.settings as s; "
        "print('dev' if settings.SECRET_KEY == s.DEV_SECRET_KEY else 'set')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "course.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
