"""The forms, one module per audience: students (answers, restores, figures), staff (the dashboard's filters),
accounts (sign-up, password reset, login) and admin (courses, groups, templates, the roster)."""
