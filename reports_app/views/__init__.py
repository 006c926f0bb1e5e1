"""The pages, one module per audience: students (a group's report and everything on it), staff (the dashboard and
jobs), accounts (sign-up, invitations, login, password reset) and system (landing page, health check, errors);
access holds what they share (who may see a group)."""
