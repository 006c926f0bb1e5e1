"""Tests of reports_app/services, selectors, scraping, exporting, tasks, backups and the limits."""
