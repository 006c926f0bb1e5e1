"""Every byte that comes from a group's repo passes here: the URL policy, git, limits.

Nothing in a repo is trusted: its URL must match the allow-list, and what we read from it is checked before use.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class RepoRefused(ValueError):
    """The repo URL breaks our policy (off the allow-list, credentials in it...): we never contact it."""


def check_url(url: str, allowed: list[str]) -> str:
    """The URL, stripped, when it may be fetched; RepoRefused with the reason a person can act on otherwise.

    >>> check_url(" https://github.com/acme/mlops ", ["https://github.com/"])
    'https://github.com/acme/mlops'
    >>> check_url("https://user:token@github.com/acme/mlops", ["https://github.com/"])
    Traceback (most recent call last):
    ...
    reports_app.scraping.RepoRefused: the repo URL must not contain a user name or password
    """
    url = url.strip()
    if not url:
        raise RepoRefused("the group has no repo URL")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise RepoRefused("the repo URL contains spaces or control characters")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise RepoRefused("the repo URL must not contain a user name or password")
    if parts.query or parts.fragment:
        raise RepoRefused("the repo URL must not have a query (?...) or fragment (#...)")
    if not any(url.startswith(prefix) for prefix in allowed):
        raise RepoRefused(f"the repo URL must start with {' or '.join(allowed) or '(nothing is allowed)'}")
    if "/../" in f"{parts.path}/" or "/./" in f"{parts.path}/":
        raise RepoRefused("the repo URL must not contain . or .. path segments")
    return url
