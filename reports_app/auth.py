"""Logging in: accounts made from a roster or a sign-up are named by e-mail, which people type with capitals."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class CaseInsensitiveBackend(ModelBackend):
    """Django's backend, with the user name matched regardless of case when only one account matches it; a name that
    matches no account is taken as an e-mail address when exactly one account has it (the login form asks for
    "E-mail or user name")."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username:
            users = get_user_model().objects
            names = list(users.filter(username__iexact=username.strip()).values_list("username", flat=True)[:2])
            if not names and "@" in username:
                field = get_user_model().get_email_field_name()
                names = list(
                    users.filter(**{f"{field}__iexact": username.strip()}).values_list("username", flat=True)[:2]
                )
            if len(names) == 1:
                username = names[0]
        return super().authenticate(request, username=username, password=password, **kwargs)
