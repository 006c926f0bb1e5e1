"""Tests of the pages (reports_app/views), their forms and the admin, through the test client."""
