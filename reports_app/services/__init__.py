"""Writes that touch several models, each in one transaction, one module per domain, functions named
`<entity>_<action>`: templates, reports, answers (and the checklist), figures, checking, scrapes, roster, signup.
Reads that assemble a whole page live in reports_app/selectors/."""
