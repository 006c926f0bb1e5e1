"""How the site names a person, on every page, in every mail and JSON answer: their full name, else their user name
(an e-mail address for most students: accounts are named by it); an account deleted since is "someone".

>>> from types import SimpleNamespace as Account
>>> person_name(Account(get_full_name=lambda: "Alice Berg", get_username=lambda: "alice@example.org"))
'Alice Berg'
>>> person_name(Account(get_full_name=lambda: "", get_username=lambda: "alice@example.org"))
'alice@example.org'
>>> person_name(None), person_name(None, "a member")
('someone', 'a member')
"""

from __future__ import annotations

from typing import Protocol

SOMEONE = "someone"  # who did it, when their account is deleted since


class Account(Protocol):
    """A user account as naming sees it (Django's users are ones)."""

    def get_full_name(self) -> str: ...

    def get_username(self) -> str: ...


def person_name(user: Account | None, nobody: str = SOMEONE) -> str:
    """The person's full name, else their user name; `nobody` for no account (deleted, or never set)."""
    if user is None:
        return nobody
    return user.get_full_name() or user.get_username()
