"""Logging in: accounts made from a roster or a sign-up are named by e-mail, which people type with capitals."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class CaseInsensitiveBackend(ModelBackend):
    """Django's backend, with the user name matched regardless of case when only one account matches it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username:
            matches = get_user_model().objects.filter(username__iexact=username.strip())
            names = list(matches.values_list("username", flat=True)[:2])
            if len(names) == 1:
                username = names[0]
        return super().authenticate(request, username=username, password=password, **kwargs)
