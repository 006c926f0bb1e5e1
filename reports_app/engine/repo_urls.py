"""The one rule for a group's repo URL, applied wherever a URL comes in: the admin's group form, /join/, the roster
import and the scrape itself (scraping.fetch_reports). Pure Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit


class RepoError(Exception):
    """A repo we could not read; the message says why in a sentence a person can act on."""


class RepoRefused(RepoError, ValueError):
    """The repo URL breaks our policy (off the allow-list, credentials in it...): we never contact it."""


URL_MISSING = "the group has no repo URL"
URL_SPACES = "the repo URL contains spaces or control characters"
URL_DASH = "the repo URL must not start with -"
URL_HIDDEN = "the repo URL must not contain %2F, %5C, %25, %00 or a lone %: an encoded /, \\, % or NUL"
URL_NOT_UTF8 = "the repo URL has a %-escape that is not UTF-8 text"
URL_BACKSLASH = "the repo URL must not contain a backslash"
URL_TRANSPORT = "the repo URL must not use git's transport syntax (::)"
URL_CREDENTIALS = "the repo URL must not contain a user name or password"
URL_QUERY = "the repo URL must not have a query (?...) or fragment (#...)"
URL_DOTS = "the repo URL must not contain . or .. path segments"
URL_PREFIX = "the repo URL must start with {allowed}"
_HIDING_ESCAPES = re.compile(r"%(2f|5c|25|00)", re.IGNORECASE)


def check_url(url: str, allowed: Sequence[str]) -> str:
    """The URL to fetch, percent-escapes decoded, when it is under one of the `allowed` prefixes; RepoRefused with the
    reason otherwise. The one rule for repo URLs: the forms, the roster import and the scrape all call it.

    git decodes percent-escapes itself (`file:///ok/%2e%2e/x` reads `/x`), so the URL is decoded first and every check
    is made on what git will see; escapes that would hide a separator, a % or a NUL are refused outright, so decoding
    the result again changes nothing. A prefix matches on a path segment boundary: `https://github.com/acme` allows
    `https://github.com/acme/x`, not `https://github.com/acme-evil/x`.

    >>> check_url(" https://github.com/acme/ml%6Fps ", ["https://github.com/"])
    'https://github.com/acme/mlops'
    >>> check_url("https://user:token@github.com/acme/mlops", ["https://github.com/"])
    Traceback (most recent call last):
    ...
    reports_app.engine.repo_urls.RepoRefused: the repo URL must not contain a user name or password
    """
    url = url.strip()
    if not url:
        raise RepoRefused(URL_MISSING)
    if url.startswith("-"):
        raise RepoRefused(URL_DASH)
    if _HIDING_ESCAPES.search(url):
        raise RepoRefused(URL_HIDDEN)
    try:
        url = unquote(url, errors="strict")
    except UnicodeDecodeError:
        raise RepoRefused(URL_NOT_UTF8) from None
    if any(c.isspace() or not c.isprintable() for c in url):
        raise RepoRefused(URL_SPACES)
    if "%" in url:  # a % that starts no escape
        raise RepoRefused(URL_HIDDEN)
    if "\\" in url:
        raise RepoRefused(URL_BACKSLASH)
    if "::" in url:
        raise RepoRefused(URL_TRANSPORT)
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise RepoRefused(URL_CREDENTIALS)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise RepoRefused(URL_QUERY)
    if not any(_under(url, prefix) for prefix in allowed):
        raise RepoRefused(URL_PREFIX.format(allowed=" or ".join(allowed) or "(nothing is allowed)"))
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise RepoRefused(URL_DOTS)
    return url


def _under(url: str, prefix: str) -> bool:
    """Whether `url` is `prefix` or below it, on a path segment boundary."""
    if not prefix or not url.startswith(prefix):
        return False
    return len(url) == len(prefix) or prefix.endswith("/") or url[len(prefix)] == "/"
