"""Tests of reports_app/engine: pure, most need no database."""
