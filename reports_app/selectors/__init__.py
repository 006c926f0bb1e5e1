"""Reads that assemble a whole page with a fixed number of queries: report_page (a group's report) and overview (a
course's groups, for the dashboard and the export)."""
