"""Settings come from the environment; each case runs in a fresh interpreter, as the site starts."""

import os
import subprocess
import sys

import pytest

from tests.helpers.settings import ROOT, start


@pytest.mark.parametrize("key", ["", None])
def test_production_refuses_to_start_without_a_secret_key(key):
    result = start(DEBUG="0", **({"SECRET_KEY": key} if key is not None else {}))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_an_empty_secret_key_counts_as_unset_in_development():
    """docker compose passes `SECRET_KEY=` when the variable is not set; that must not become an empty key."""
    result = start(DEBUG="1", SECRET_KEY="")
    assert (result.returncode, result.stdout.strip()) == (0, "dev")


def test_a_malformed_boolean_is_refused_by_name():
    result = start(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-test-only-production-key-that-is-long-and-random-9f3c2e7b1d",
    "ALLOWED_HOSTS": "reports.example.org",
    "HTTPS": "1",
}


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_https_is_off():
    """Without HTTPS=1 (a local compose on http) the deploy check names what production must turn on."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, **PRODUCTION, "HTTPS": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr and "SECURE_HSTS_SECONDS" in result.stderr
