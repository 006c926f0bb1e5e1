"""Tests of reports_app/management/commands (each command run as a person would, and its one-line errors)."""
